using System.Runtime.InteropServices;
using AuditInfra.Cli;

// The first Ctrl+C or SIGTERM asks the command to stop (it ends with "cancelled", exit 130); a second one
// ends the process at once, for a command that does not listen.
using var cancellation = new CancellationTokenSource();
void Stop(PosixSignalContext context)
{
    if (!cancellation.IsCancellationRequested)
    {
        context.Cancel = true;
        cancellation.Cancel();
    }
}

using var interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
using var terminate = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
return await CliApp.RunAsync(args, CliIo.FromConsole(), cancellation.Token);
