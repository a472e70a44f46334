using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime;
using AuditInfra.Core.Integrity.Attestations;

namespace AuditInfra.Cli.Integrity;

/// <summary>Attestations into the verified bucket, through the S3 store (its retries and error messages), written once.</summary>
internal sealed class S3AttestationWriter(S3ObjectStore store) : IObjectWriter
{
    public string Description => store.Description;

    public Task<bool> CreateIfAbsentAsync(string key, byte[] content, CancellationToken cancellationToken) =>
        store.PutIfAbsentAsync(key, content, "application/json", cancellationToken);
}

/// <summary>
/// Signs with a KMS asymmetric key (key spec RSA_2048 or larger, key usage SIGN_VERIFY): the SHA-256 of the message is
/// sent (MessageType DIGEST, so messages past KMS's 4 KiB limit for RAW sign alike), algorithm RSASSA_PSS_SHA_256. The
/// signature is the same as a key file's over the whole message, and verifies with the key's public half.
/// </summary>
public sealed class KmsAttestationSigner(IAmazonKeyManagementService kms, string keyId) : IAttestationSigner
{
    public string Description => $"KMS key {keyId}";

    public static KmsAttestationSigner Create(string keyId)
    {
        var config = new AmazonKeyManagementServiceConfig { RetryMode = RequestRetryMode.Standard };
        // A key ARN names its region; an id or alias uses the environment's, as the AWS CLI does.
        var parts = keyId.Split(':');
        if (parts.Length >= 6 && parts[0] == "arn" && parts[2] == "kms" && parts[3].Length > 0)
        {
            config.RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(parts[3]);
        }
        else if (Environment.GetEnvironmentVariable("AWS_REGION") is null && Environment.GetEnvironmentVariable("AWS_DEFAULT_REGION") is null)
        {
            throw new AttestationKeyException($"--kms-key-id {keyId}: a key id or alias needs a region (set AWS_REGION) or give the key's ARN");
        }

        try
        {
            return new KmsAttestationSigner(new AmazonKeyManagementServiceClient(config), keyId);
        }
        catch (AmazonClientException e)
        {
            throw new AttestationKeyException($"--kms-key-id {keyId}: cannot create a KMS client ({Core.Messages.Flatten(e.Message)}); configure credentials as for the AWS CLI", e);
        }
    }

    public async Task<AttestationSignature> SignAsync(byte[] message, CancellationToken cancellationToken)
    {
        SignResponse response;
        try
        {
            response = await kms.SignAsync(new SignRequest
            {
                KeyId = keyId,
                Message = new MemoryStream(SHA256.HashData(message), writable: false),
                MessageType = MessageType.DIGEST,
                SigningAlgorithm = SigningAlgorithmSpec.RSASSA_PSS_SHA_256,
            }, cancellationToken);
        }
        catch (AmazonKeyManagementServiceException e)
        {
            throw new AttestationKeyException($"--kms-key-id {keyId}: KMS refused to sign ({e.ErrorCode ?? e.StatusCode.ToString()}: {Core.Messages.Flatten(e.Message)}); the key must be an RSA SIGN_VERIFY key allowing RSASSA_PSS_SHA_256, and the caller needs kms:Sign on it", e);
        }
        catch (AmazonClientException e)
        {
            throw new AttestationKeyException($"--kms-key-id {keyId}: cannot reach KMS ({Core.Messages.Flatten(e.Message)})", e);
        }

        if (response.Signature is not { Length: > 0 } signature)
        {
            throw new AttestationKeyException($"--kms-key-id {keyId}: KMS answered without a signature");
        }

        return new AttestationSignature(string.IsNullOrEmpty(response.KeyId) ? keyId : response.KeyId, signature.ToArray());
    }
}
