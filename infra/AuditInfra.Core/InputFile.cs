namespace AuditInfra.Core;

/// <summary>
/// Reads a small input file whole (public keys, an account list, a report, a plan), refusing one far larger
/// than such a file can be: an input named by mistake (a log archive, a device) must not exhaust memory.
/// </summary>
public static class InputFile
{
    /// <summary>Thousands of accounts or keys fit in a few MiB; this leaves room for any real file.</summary>
    public const int DefaultMaxBytes = 64 << 20;

    /// <summary>The bytes of the file; an <see cref="IOException"/> saying so when it is not a regular file or is too large.</summary>
    public static byte[] ReadAllBytes(string path, int maxBytes = DefaultMaxBytes)
    {
        if (Directory.Exists(path))
        {
            throw new IOException("is a directory, not a file");
        }

        RefuseSpecialFile(path);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1, FileOptions.SequentialScan);
        if (stream.CanSeek && stream.Length > maxBytes)
        {
            throw new IOException($"is {stream.Length} bytes, more than the {maxBytes >> 20} MiB such a file can reasonably hold");
        }

        using var content = new MemoryStream();
        var buffer = new byte[81920];
        int read;
        while ((read = stream.Read(buffer, 0, buffer.Length)) > 0)
        {
            if (content.Length + read > maxBytes)
            {
                throw new IOException($"holds more than the {maxBytes >> 20} MiB such a file can reasonably hold");
            }

            content.Write(buffer, 0, read);
        }

        return content.ToArray();
    }

    /// <summary>
    /// Opening a FIFO blocks until a writer comes, and a device may never end: only a regular file is opened, also
    /// behind a symbolic link (the type of the link's final target is what counts).
    /// </summary>
    public static void RefuseSpecialFile(string path)
    {
        var target = path;
        if (Integrity.LocalDirectoryStore.TypeOf(path) == Integrity.LocalEntryType.SymbolicLink)
        {
            FileSystemInfo? resolved;
            try
            {
                resolved = File.ResolveLinkTarget(path, returnFinalTarget: true);
            }
            catch (IOException ex)
            {
                throw new IOException($"is a symbolic link that cannot be resolved ({ex.Message})", ex);
            }

            target = resolved?.FullName ?? path;
        }

        switch (Integrity.LocalDirectoryStore.TypeOf(target))
        {
            case Integrity.LocalEntryType.Special:
                var kind = OperatingSystem.IsLinux() ? Integrity.UnixFileType.NameOf(target) : "special file";
                throw new IOException(target == path ? $"is a {kind}, not a regular file" : $"is a symbolic link to a {kind} ({target}), not a regular file");
            case Integrity.LocalEntryType.Missing when target != path:
                throw new IOException($"is a symbolic link to {target}, which does not exist");
        }
    }

    /// <summary>The text of the file, UTF-8 unless a byte order mark says otherwise (Windows PowerShell redirects write UTF-16).</summary>
    public static string ReadAllText(string path, int maxBytes = DefaultMaxBytes)
    {
        using var reader = new StreamReader(new MemoryStream(ReadAllBytes(path, maxBytes)), System.Text.Encoding.UTF8, detectEncodingFromByteOrderMarks: true);
        return reader.ReadToEnd();
    }
}

/// <summary>What a JSON value is, in the words of an error message.</summary>
internal static class JsonKinds
{
    public static string Describe(System.Text.Json.JsonElement element) => element.ValueKind switch
    {
        System.Text.Json.JsonValueKind.Object => "an object",
        System.Text.Json.JsonValueKind.Array => "an array",
        System.Text.Json.JsonValueKind.String => "a string",
        System.Text.Json.JsonValueKind.Number => $"the number {element.GetRawText()}",
        System.Text.Json.JsonValueKind.True or System.Text.Json.JsonValueKind.False => element.GetRawText(),
        _ => "null",
    };
}
