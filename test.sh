#!/usr/bin/env bash
# Builds and tests everything that can be built here.
#  - The Pulumi-free projects (Core, CLI, their tests): always.
#  - The Pulumi projects (the program, the Automation host, their mock tests): when Pulumi,
#    Pulumi.Aws and Pulumi.Automation restore from the configured NuGet sources. Where they do
#    not, they are skipped and the skip is announced loudly, with the reason.
#  - dotnet format (style gate) on the Pulumi-free solution.
# Extra NuGet sources may be given in AUDITINFRA_NUGET_SOURCES (space-separated).
set -uo pipefail
cd "$(dirname "$0")"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# Extra sources are added to the configured ones, never instead of them.
sources=()
if [ -n "${AUDITINFRA_NUGET_SOURCES:-}" ]; then
  sources=("-p:RestoreAdditionalProjectSources=$(echo "$AUDITINFRA_NUGET_SOURCES" | tr ' ' ';')")
fi

results=$(mktemp -d)
status=0
passed=0
failed=0
skipped_projects=()

section() { printf '\n==== %s ====\n' "$*"; }

run_tests() { # solution-or-project label [extra dotnet test args...]
  local target=$1 label=$2 log="$results/$2.log"
  shift 2
  section "tests: $label"
  dotnet test "$target" -c Release --nologo --no-restore "$@" 2>&1 | tee "$log"
  local rc=${PIPESTATUS[0]}
  local p f
  p=$(grep -Eo 'Passed: +[0-9]+' "$log" | grep -Eo '[0-9]+' | paste -sd+ - | bc 2>/dev/null || echo 0)
  f=$(grep -Eo 'Failed: +[0-9]+' "$log" | grep -Eo '[0-9]+' | paste -sd+ - | bc 2>/dev/null || echo 0)
  passed=$((passed + ${p:-0})); failed=$((failed + ${f:-0}))
  if [ "$rc" -ne 0 ]; then status=1; echo "FAILED: $label (exit $rc)"; fi
}

section "PostgreSQL for the rollout ledger tests (.ci/postgres.sh)"
pg_skip_reason=""
browser_skip=""
if [ -z "${AUDITINFRA_TEST_POSTGRES:-}" ]; then
  if pg_env=$(.ci/postgres.sh start 2>"$results/postgres.log"); then
    eval "$pg_env"
    export AUDITINFRA_TEST_POSTGRES
    trap '.ci/postgres.sh stop "$AUDITINFRA_TEST_PGDATA"' EXIT
    echo "PostgreSQL started on loopback for the ledger tests"
  else
    pg_skip_reason=$(tail -3 "$results/postgres.log" | paste -sd' ' -)
    if [ "${CI:-}" = "true" ]; then
      echo "FAILED: CI must run the PostgreSQL ledger tests but no server could be started: $pg_skip_reason"; status=1
    else
      cat <<MSG

################################################################################
#  SKIPPED: the PostgreSQL ledger tests (Category=Postgres) pass vacuously here.
#  Why: no PostgreSQL server could be started: $pg_skip_reason
#  Install it (apt-get install -y postgresql) or set AUDITINFRA_TEST_POSTGRES.
################################################################################
MSG
    fi
  fi
fi

section "s3rver for the S3 verify tests (tools/s3rver: npm ci)"
offline_filter="Category!=Browser"
s3_skip=""
if command -v node >/dev/null && (cd tools/s3rver && npm ci --no-audit --no-fund --loglevel=error); then
  echo "s3rver installed; the S3 tests start it on loopback themselves"
elif [ "${CI:-}" = "true" ]; then
  echo "FAILED: CI must run the S3 verify tests but s3rver could not be installed (node and npm are needed)"; status=1
else
  s3_skip="node/npm missing or 'npm ci' failed in tools/s3rver"
  offline_filter="Category!=Browser&Category!=S3"
  printf '\n################################################################################\n#  SKIPPED: the S3 verify tests (Category=S3).\n#  Why: %s\n################################################################################\n' "$s3_skip"
fi

section "restore + build: Pulumi-free projects (AuditInfra.Offline.slnf)"
if dotnet restore AuditInfra.Offline.slnf "${sources[@]}" && dotnet build AuditInfra.Offline.slnf -c Release --no-restore --nologo; then
  run_tests AuditInfra.Offline.slnf offline --filter "$offline_filter"
  # The documentation opened in headless Chromium (Debian's chromium; .ci/run installs it).
  if [ -x /usr/bin/chromium ] || [ -x /usr/bin/chromium-browser ]; then
    run_tests tests/AuditInfra.Cli.Tests browser --filter "Category=Browser"
  elif [ "${CI:-}" = "true" ]; then
    echo "FAILED: CI must run the browser tests but Chromium is not installed"; status=1
  else
    browser_skip="Chromium is not installed (apt-get install chromium)"
    printf '\n################################################################################\n#  SKIPPED: the browser tests of the documentation (Category=Browser).\n#  Why: %s\n################################################################################\n' "$browser_skip"
  fi
else
  echo "FAILED: the Pulumi-free projects do not build"; status=1
fi

section "restore: Pulumi projects (Pulumi 3.112.1, Pulumi.Aws 7.48.0, Pulumi.Automation 3.112.1)"
pulumi_log="$results/pulumi-restore.log"
if dotnet restore AuditInfra.Pulumi.slnf "${sources[@]}" >"$pulumi_log" 2>&1; then
  if dotnet build AuditInfra.Pulumi.slnf -c Release --no-restore --nologo; then
    run_tests AuditInfra.Pulumi.slnf pulumi
  else
    echo "FAILED: the Pulumi projects restore but do not build"; status=1
  fi
else
  if grep -qE "NU1101|NU1102|NU1103" "$pulumi_log"; then
    reason=$(grep -hoE "Unable to find package [A-Za-z.]+[^.]*" "$pulumi_log" | sort -u | paste -sd';' -)
    skipped_projects=(infra/AuditInfra tests/AuditInfra.Tests $(grep -oE '(infra|tests)/AuditInfra.Automation[^"]*csproj' AuditInfra.Pulumi.slnf 2>/dev/null | xargs -r -n1 dirname))
    cat <<MSG

################################################################################
#  SKIPPED: the Pulumi projects were NOT built or tested on this machine.
#  Why: the Pulumi packages do not restore from the NuGet sources here
#       (${reason:-package not found}).
#  Skipped: ${skipped_projects[*]}
#  They build and test wherever Pulumi, Pulumi.Aws and Pulumi.Automation restore
#  (e.g. nuget.org), or with AUDITINFRA_NUGET_SOURCES naming a feed that has them.
################################################################################
MSG
  else
    cat "$pulumi_log"; echo "FAILED: restoring the Pulumi projects failed for another reason"; status=1
  fi
fi

if [ -x policy/test.sh ]; then
  section "policy pack (CrossGuard) tests"
  if ! policy/test.sh; then status=1; fi
fi

section "style: dotnet format --verify-no-changes"
if ! dotnet format AuditInfra.Offline.slnf --verify-no-changes --no-restore; then
  echo "FAILED: dotnet format found changes to make (run: dotnet format AuditInfra.Offline.slnf)"; status=1
fi

section "summary"
[ ${#skipped_projects[@]} -gt 0 ] && echo "SKIPPED (Pulumi packages unavailable): ${skipped_projects[*]}"
[ -n "$pg_skip_reason" ] && echo "SKIPPED (no PostgreSQL server): the PostgreSQL ledger tests — $pg_skip_reason"
[ -n "$browser_skip" ] && echo "SKIPPED (browser tests): $browser_skip"
[ -n "$s3_skip" ] && echo "SKIPPED (S3 verify tests): $s3_skip"
echo "dotnet: $passed passed, $failed failed"
exit $status
