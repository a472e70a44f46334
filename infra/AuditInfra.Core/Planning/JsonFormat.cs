using System.Text.Encodings.Web;
using System.Text.Json;

namespace AuditInfra.Core.Planning;

/// <summary>One way to write JSON: readable characters kept as they are (no \u0027 for an apostrophe).</summary>
public static class JsonFormat
{
    public static readonly JsonSerializerOptions Compact = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static readonly JsonSerializerOptions Indented = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping, WriteIndented = true };
}
