# The `auditinfra` CLI as a container image: what the audit stack's integrity monitor runs on
# Fargate (hourly `verify`) and AWS Batch (backfills). CI builds it (preview.yml) and pushes it to
# the monitor's ECR repository under the commit id (deploy.yml).
#
#   docker build -t auditinfra .
#   docker run --rm auditinfra plan --stack audit --sample

FROM mcr.microsoft.com/dotnet/sdk:10.0 AS build
WORKDIR /src
# Restore first, from the project files alone, so a code change reuses the restored layer.
COPY Directory.Build.props Directory.Packages.props .editorconfig ./
COPY infra/AuditInfra.Core/AuditInfra.Core.csproj infra/AuditInfra.Core/
COPY infra/AuditInfra.Rollout/AuditInfra.Rollout.csproj infra/AuditInfra.Rollout/
COPY infra/AuditInfra.Cli/AuditInfra.Cli.csproj infra/AuditInfra.Cli/
RUN dotnet restore infra/AuditInfra.Cli/AuditInfra.Cli.csproj -r linux-x64
COPY policy/invariants.json policy/
COPY Pulumi.audit.yaml Pulumi.prod.yaml ./
COPY infra/AuditInfra.Core/ infra/AuditInfra.Core/
COPY infra/AuditInfra.Rollout/ infra/AuditInfra.Rollout/
COPY infra/AuditInfra.Cli/ infra/AuditInfra.Cli/
# Self-contained and precompiled (ReadyToRun, one composite image): see the CLI's project file.
RUN dotnet publish infra/AuditInfra.Cli/AuditInfra.Cli.csproj -c Release -r linux-x64 --no-restore -o /app

# The runtime-dependencies image (Debian, glibc: DuckDB's native library needs it; the .NET runtime ships inside the
# published CLI), run as its non-root user.
FROM mcr.microsoft.com/dotnet/runtime-deps:10.0 AS runtime
# verify and query --verify fetch the trail's public keys with `aws cloudtrail list-public-keys` when
# --public-keys is not given (the monitor's tasks never give it): the AWS CLI v2 has to be on PATH.
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates curl unzip \
 && curl -sSfL -o /tmp/awscliv2.zip https://awscli.amazonaws.com/awscli-exe-linux-x86_64.zip \
 && unzip -q /tmp/awscliv2.zip -d /tmp \
 && /tmp/aws/install \
 && rm -rf /tmp/aws /tmp/awscliv2.zip \
 && apt-get purge -y curl unzip && apt-get autoremove -y && rm -rf /var/lib/apt/lists/*
COPY --from=build /app /opt/auditinfra
RUN ln -s /opt/auditinfra/auditinfra /usr/local/bin/auditinfra
ENV DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1
WORKDIR /home/app
USER $APP_UID
ENTRYPOINT ["auditinfra"]
CMD ["--help"]
