// CI step: `npm audit --omit=dev` must report no high or critical advisory.
// Some registries or mirrors refuse the bulk advisory endpoint (HTTP 405);
// then nothing was checked, which is said loudly rather than failing the build
// or passing in silence.
import { spawnSync } from 'node:child_process';

const FAILING_SEVERITIES = ['high', 'critical'];

const run = spawnSync('npm', ['audit', '--omit=dev', '--json'], { encoding: 'utf8', timeout: 120_000 });
let report;
try {
  report = JSON.parse(run.stdout);
} catch {
  console.error(`dependency audit: npm audit printed no JSON (exit ${run.status})\n${run.stderr}`);
  process.exit(1);
}

if (report.vulnerabilities === undefined) {
  console.log(`dependency audit: NOT CHECKED, the registry refused the audit request: ${report.message ?? run.stderr.trim()}`);
  process.exit(0);
}

const counts = report.metadata?.vulnerabilities ?? {};
const failing = Object.values(report.vulnerabilities ?? {}).filter((advisory) => FAILING_SEVERITIES.includes(advisory.severity));
console.log(`dependency audit: ${Object.entries(counts).map(([severity, n]) => `${n} ${severity}`).join(', ')}`);
for (const advisory of failing) console.log(`  ${advisory.severity}: ${advisory.name} (${advisory.range})`);
process.exit(failing.length > 0 ? 1 : 0);
