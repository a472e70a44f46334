using System.Diagnostics;

namespace AuditInfra.Core;

/// <summary>Processes of this machine, as a lock or a scratch folder names its owner.</summary>
public static class LocalProcesses
{
    /// <summary>
    /// Whether a process with this id runs on this machine now. An id that was reused by another process reads as running,
    /// so whatever its owner left is kept: a wrong "running" only delays a clean-up.
    /// </summary>
    public static bool IsRunning(int processId)
    {
        try
        {
            using var process = Process.GetProcessById(processId);
            return !process.HasExited;
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException)
        {
            return false;
        }
    }
}
