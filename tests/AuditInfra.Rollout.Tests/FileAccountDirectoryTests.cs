using System.Runtime.InteropServices;
using AuditInfra.Rollout.Accounts;

namespace AuditInfra.Rollout.Tests;

/// <summary>The host's --accounts-file: a FIFO given by mistake blocked the host for ever on open.</summary>
public class FileAccountDirectoryTests
{
    [DllImport("libc", EntryPoint = "mkfifo", SetLastError = true)]
    private static extern int MakeFifo([MarshalAs(UnmanagedType.LPUTF8Str)] string path, uint mode);

    [SkippableFact]
    public async Task A_fifo_as_the_accounts_file_is_an_input_error_naming_it_never_opened()
    {
        Skip.IfNot(OperatingSystem.IsLinux(), "FIFOs are told from files by statx, on Linux only");
        var path = Path.Combine(Directory.CreateTempSubdirectory("auditinfra-accounts").FullName, "accounts.json");
        Assert.Equal(0, MakeFifo(path, Convert.ToUInt32("600", 8)));

        var read = Task.Run(() => new FileAccountDirectory(path).ListAccountsAsync(CancellationToken.None));
        if (await Task.WhenAny(read, Task.Delay(TimeSpan.FromSeconds(20))) != read)
        {
            // Release the blocked reader so the test run can end.
            using (new FileStream(path, FileMode.Open, FileAccess.Write))
            {
            }

            Assert.Fail("reading the accounts file blocked on a FIFO");
        }

        var error = await Assert.ThrowsAsync<FormatException>(() => read);
        Assert.Contains(path, error.Message, StringComparison.Ordinal);
        Assert.Contains("FIFO (named pipe), not a regular file", error.Message, StringComparison.Ordinal);
    }
}
