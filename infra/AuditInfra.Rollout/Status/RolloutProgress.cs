using AuditInfra.Core.Rollout;
using AuditInfra.Rollout.Engine;

namespace AuditInfra.Rollout.Status;

/// <summary>
/// Progress of a one-shot rollout: on a terminal one line rewritten in place; otherwise one line
/// per finished account (logs and CI output stay readable).
/// </summary>
public sealed class RolloutProgress(int total, bool isTerminal, TextWriter? output = null)
{
    private readonly TextWriter _out = output ?? Console.Out;
    private readonly object _gate = new();
    private int _done;
    private int _deployed;
    private int _failed;

    public void Report(OperationOutcome outcome)
    {
        lock (_gate)
        {
            if (outcome.State is AccountRolloutState.Deployed or AccountRolloutState.Failed)
            {
                _done++;
                if (outcome.State == AccountRolloutState.Deployed)
                {
                    _deployed++;
                }
                else
                {
                    _failed++;
                }
            }

            var line = $"[{_done}/{total}] {_deployed} deployed, {_failed} failed — {StackNames.ForAccount(outcome.AccountId)} {outcome.State.Name()} in {outcome.Duration.TotalSeconds:0.0}s";
            if (isTerminal)
            {
                _out.Write("\r" + line.PadRight(100)[..Math.Max(100, line.Length)]);
            }
            else
            {
                _out.WriteLine(outcome.Error is null ? line : $"{line}: {outcome.Error}");
            }
        }
    }

    public void Finish()
    {
        if (isTerminal)
        {
            _out.WriteLine();
        }
    }
}
