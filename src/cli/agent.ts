// `hotpath agent`: profiles Python processes continuously and pushes the profiles to Grafana Pyroscope, one
// upload per interval, without ever making sampling wait on the server. Ctrl-C or SIGTERM sends the last,
// partial interval (within a few seconds) and exits 0.

import {
  PyroscopeAgent,
  buildIngestName,
  checkAppName,
  describePyroscopeServer,
  parseTag,
  parseTagList,
  type AgentSummary,
  type PyroscopeAuth,
} from '../agent/index.js';
import { HotpathError } from '../errors/index.js';
import type { Sampler } from '../sampler/index.js';
import { parseCommandLine } from './arguments.js';
import type { Command } from './command.js';
import { EXIT_OK, exitCodeFor } from './exit-codes.js';
import { SAMPLING_OPTIONS, SAMPLING_USAGE, resolveSampling, type SamplingValues } from './sampling-options.js';
import { describeProcessEvent, describeSampled, runSession } from './session.js';

interface AgentValues extends SamplingValues {
  server?: string;
  'app-name'?: string;
  'upload-interval'?: string;
  tag?: string[];
  'auth-token'?: string;
  'basic-auth'?: string;
  'tenant-id'?: string;
}

const AGENT_OPTIONS = {
  ...SAMPLING_OPTIONS,
  server: { type: 'string' },
  'app-name': { type: 'string' },
  'upload-interval': { type: 'string' },
  tag: { type: 'string', multiple: true },
  'auth-token': { type: 'string' },
  'basic-auth': { type: 'string' },
  'tenant-id': { type: 'string' },
} as const;

const DEFAULT_UPLOAD_INTERVAL_SEC = 10;
/** How long the last interval may take to send on exit. */
const EXIT_DEADLINE_MS = 5_000;

export const agentCommand: Command = {
  name: 'agent',
  summary: 'Profile continuously and push the profiles to Grafana Pyroscope',
  usage: `hotpath agent --server URL --app-name NAME [options] --pid PID [PID...]
hotpath agent --server URL --app-name NAME [options] -- python app.py [args]

Pyroscope:
      --server URL               the server, e.g. http://pyroscope:4040 (a path prefix is kept)
      --app-name NAME            application name: letters, digits and _ . - /, e.g. shop.web
      --tag KEY=VALUE            a static tag; repeat for more: --tag env=prod --tag region=eu-1
      --upload-interval SECONDS  whole seconds per upload (default ${DEFAULT_UPLOAD_INTERVAL_SEC})
      --auth-token TOKEN         sent as "Authorization: Bearer TOKEN"
      --basic-auth USER:PASSWORD HTTP basic auth (Grafana Cloud: the stack's user id and a token)
      --tenant-id ID             sent as X-Scope-OrgID, for multi-tenant servers
  Without the option, the variable Pyroscope's own agents read (prefer them for secrets: ps shows options):
  PYROSCOPE_SERVER_ADDRESS, PYROSCOPE_APPLICATION_NAME, PYROSCOPE_LABELS (k=v,k=v), PYROSCOPE_AUTH_TOKEN,
  PYROSCOPE_BASIC_AUTH_USER with PYROSCOPE_BASIC_AUTH_PASSWORD, PYROSCOPE_TENANT_ID.
  Each sample is labelled with its endpoint ("GET /users/{id}"), pid and thread name.

Sampling:
${SAMPLING_USAGE}

While the server is unreachable or failing, sampling goes on: uploads are retried with backoff and the last 60
intervals kept (older ones are dropped, counted). Each kind of failure is logged once. Ctrl-C or SIGTERM sends
the last, partial interval (waiting ${EXIT_DEADLINE_MS / 1000} s at most) and exits 0.`,
  run: runAgent,
};

async function runAgent(argv: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const { values, extraPids, command } = parseCommandLine<AgentValues>(argv, AGENT_OPTIONS);
  if (values.help) {
    console.log(agentCommand.usage);
    return EXIT_OK;
  }
  const settings = resolveAgentSettings(values, env);
  const { pids, rateHz, durationSec, sampler, endpointAliases } = resolveSampling('agent', values, extraPids, command);
  const agent = new PyroscopeAgent({
    server: describePyroscopeServer(settings.server, settings.auth, settings.tenantId),
    name: settings.name,
    rateHz,
    uploadIntervalSec: settings.uploadIntervalSec,
    command: command.length > 0 ? command.join(' ') : pids.join(' '),
    endpointAliases,
    log,
  });
  let session;
  let summary: AgentSummary;
  /** Set before any sample: sample times count from the start of its run. */
  let sampling: Sampler | undefined;
  try {
    session = await runSession({
      ...sampler,
      pids,
      command,
      onSample: (sample) => agent.addSample(sample, sampling!.startWallTime + sample.time),
      onProcessEvent: (event) => log(describeProcessEvent(event)),
      onStart: (started, _launched, sampler) => {
        sampling = sampler;
        agent.start();
        log(
          `sampling ${describeSampled(started)} at ${rateHz} Hz` +
            (durationSec ? ` for ${durationSec}s` : '') +
            `, pushing ${settings.name} to ${settings.server} every ${settings.uploadIntervalSec}s; ` +
            'Ctrl-C sends the last interval and stops',
        );
      },
    });
  } finally {
    summary = await agent.stop(Date.now() + EXIT_DEADLINE_MS);
  }
  log(formatAgentSummary(summary));
  if (session.stopReason !== 'targets-exited' || session.launched) return EXIT_OK;
  log('the target exited');
  return exitCodeFor('target-exited');
}

interface AgentSettings {
  server: string;
  name: string;
  uploadIntervalSec: number;
  auth: PyroscopeAuth | undefined;
  tenantId: string | undefined;
}

/** Options, else the environment variables Pyroscope's own agents read. */
function resolveAgentSettings(values: AgentValues, env: NodeJS.ProcessEnv): AgentSettings {
  const server = values.server ?? env.PYROSCOPE_SERVER_ADDRESS;
  if (!server) throw new HotpathError('usage', 'agent needs --server URL (or PYROSCOPE_SERVER_ADDRESS)');
  const appName = values['app-name'] ?? env.PYROSCOPE_APPLICATION_NAME;
  if (!appName) throw new HotpathError('usage', 'agent needs --app-name NAME (or PYROSCOPE_APPLICATION_NAME)');
  checkAppName(appName);
  // Options come after the variable's tags, so a --tag overrides a PYROSCOPE_LABELS tag of the same name.
  const tags = new Map([...parseTagList(env.PYROSCOPE_LABELS ?? ''), ...(values.tag ?? []).map(parseTag)]);
  return {
    server,
    name: buildIngestName(appName, tags),
    uploadIntervalSec: parseUploadInterval(values['upload-interval']),
    auth: resolveAuth(values, env),
    tenantId: values['tenant-id'] ?? env.PYROSCOPE_TENANT_ID,
  };
}

function parseUploadInterval(text: string | undefined): number {
  if (text === undefined) return DEFAULT_UPLOAD_INTERVAL_SEC;
  const seconds = Number(text);
  if (!Number.isSafeInteger(seconds) || seconds < 1)
    throw new HotpathError('usage', `--upload-interval takes a whole number of seconds, not "${text}"`);
  return seconds;
}

function resolveAuth(values: AgentValues, env: NodeJS.ProcessEnv): PyroscopeAuth | undefined {
  if (values['auth-token'] !== undefined && values['basic-auth'] !== undefined)
    throw new HotpathError('usage', 'give --auth-token or --basic-auth, not both');
  if (values['auth-token'] !== undefined) return { token: values['auth-token'] };
  if (values['basic-auth'] !== undefined) return parseBasicAuth(values['basic-auth']);
  const { PYROSCOPE_AUTH_TOKEN: token, PYROSCOPE_BASIC_AUTH_USER: user, PYROSCOPE_BASIC_AUTH_PASSWORD: password } = env;
  if (token && (user || password))
    throw new HotpathError('usage', 'set PYROSCOPE_AUTH_TOKEN or PYROSCOPE_BASIC_AUTH_USER/PASSWORD, not both');
  if (token) return { token };
  if (user || password) return { user: user ?? '', password: password ?? '' };
  return undefined;
}

function parseBasicAuth(text: string): PyroscopeAuth {
  const split = text.indexOf(':');
  if (split < 0) throw new HotpathError('usage', '--basic-auth takes USER:PASSWORD');
  return { user: text.slice(0, split), password: text.slice(split + 1) };
}

function formatAgentSummary(summary: AgentSummary): string {
  const lost = [
    summary.dropped && `${summary.dropped} dropped while the server was away`,
    summary.rejected && `${summary.rejected} refused by the server`,
    summary.unsent && `${summary.unsent} not sent before exit`,
  ].filter(Boolean);
  return `sent ${summary.sent} interval(s) to Pyroscope` + (lost.length ? `; ${lost.join(', ')}` : '');
}

function log(message: string): void {
  console.error(`hotpath: ${message}`);
}
