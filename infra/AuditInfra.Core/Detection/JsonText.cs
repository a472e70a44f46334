using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;

namespace AuditInfra.Core.Detection;

/// <summary>
/// A JSON string's characters without allocating a string: the raw UTF-8 token decoded into a
/// caller's buffer. Matching reads the same few fields of every event, so this is where
/// allocation-free comparison pays.
/// </summary>
internal static class JsonText
{
    public const int StackLimit = 256;

    /// <summary>False when the value is escaped or too long: then use GetString().</summary>
    public static bool TryGetChars(JsonElement value, Span<char> buffer, out int length)
    {
        length = 0;
        var raw = JsonMarshal.GetRawUtf8Value(value);
        if (raw.Length < 2 || raw.Length - 2 > buffer.Length || raw.IndexOf((byte)'\\') >= 0)
        {
            return false;
        }

        length = Encoding.UTF8.GetChars(raw[1..^1], buffer);
        return true;
    }
}
