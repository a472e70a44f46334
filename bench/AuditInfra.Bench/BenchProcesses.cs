using System.Diagnostics;

namespace AuditInfra.Bench;

/// <summary>A helper process that prints <c>READY ...</c> when it serves (tools/s3rver, bench/tools fakes); stopped on dispose.</summary>
internal sealed class BenchServer(Process process, string ready) : IDisposable
{
    public string Ready { get; } = ready;

    public int ProcessId => process.Id;

    public void Dispose()
    {
        process.StandardInput.Close();
        if (!process.WaitForExit(5000))
        {
            process.Kill(entireProcessTree: true);
        }

        process.Dispose();
    }
}

/// <summary>Starting the helper servers and timing the processes the S3 benchmarks compare.</summary>
internal static class BenchProcesses
{
    public static BenchServer Start(string file, string[] args)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start)!;
        var line = process.StandardOutput.ReadLine();
        if (line is null || !line.StartsWith("READY ", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"{string.Join(' ', args)} did not start: {line} {process.StandardError.ReadToEnd()}");
        }

        process.BeginErrorReadLine();
        return new BenchServer(process, line);
    }

    /// <summary>Runs a process to its end: its exit code, output, error and wall-clock seconds.</summary>
    public static (int ExitCode, string Output, string Error, double Seconds) Run(string file, string[] args, Dictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args)
        {
            start.ArgumentList.Add(arg);
        }

        foreach (var (name, value) in environment ?? [])
        {
            start.Environment[name] = value;
        }

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result, error, clock.Elapsed.TotalSeconds);
    }
}
