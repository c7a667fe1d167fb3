// One sampling session as `record` and `top` run it: launch the command (or take the pids), attach,
// sample until the duration, Ctrl-C/SIGTERM/SIGHUP, or the targets' exit, and always clean up:
// signal handlers removed, a launched child never left behind.

import type { PythonProcess } from '../cpython/index.js';
import { Sampler, type ProcessEvent, type SamplerOptions, type StopReason } from '../sampler/index.js';
import { launchTarget, waitUntilAttachable, type LaunchedTarget } from './launch.js';

export interface SessionOptions extends SamplerOptions {
  pids: readonly number[];
  /** Command to launch instead of attaching to pids. */
  command: readonly string[];
  /** Discard the launched command's stdout and stderr. */
  hideOutput?: boolean;
  /** Aborting it ends the session as Ctrl-C does. */
  abort?: AbortController;
  /** Called once the targets are attached, before sampling starts; live views read `sampler`'s stats as it runs. */
  onStart?: (attached: PythonProcess[], launched: LaunchedTarget | undefined, sampler: Sampler) => void;
}

export interface SessionResult {
  sampler: Sampler;
  stopReason: StopReason;
  launched: LaunchedTarget | undefined;
}

/** What a session samples, for its start line: the pids, or a launcher's Python processes while none is found. */
export function describeSampled(
  attached: readonly PythonProcess[],
  describe = (p: PythonProcess): string => `${p.pid}`,
) {
  return attached.length > 0 ? attached.map(describe).join(', ') : 'the Python processes it starts';
}

/** The line `record`, `web` and `agent` log when a process is followed, left, or skipped. */
export function describeProcessEvent(event: ProcessEvent): string {
  switch (event.kind) {
    case 'attach':
      return `following process ${event.pid} (Python ${event.pythonVersion}): ${event.detail}`;
    case 'detach':
      return `left process ${event.pid} (${event.detail})`;
    case 'skip':
      return `not profiling process ${event.pid}: ${event.detail}`;
  }
}

export async function runSession(options: SessionOptions): Promise<SessionResult> {
  const launched = options.command.length > 0 ? await launchTarget(options.command, options.hideOutput) : undefined;
  const abort = options.abort ?? new AbortController();
  const removeSignalHandlers = installStopSignals(abort, launched);
  try {
    if (launched) await waitUntilAttachable(launched, options.subprocesses);
    const sampler = new Sampler(launched ? [launched.pid] : options.pids, options);
    const attached = sampler.attach();
    options.onStart?.(attached, launched, sampler);
    let stopReason: StopReason;
    try {
      stopReason = await sampler.run(abort.signal);
    } finally {
      sampler.close();
    }
    return { sampler, stopReason, launched };
  } finally {
    removeSignalHandlers();
    if (launched && launched.child.exitCode === null && launched.child.signalCode === null)
      launched.child.kill('SIGTERM');
  }
}

/** Ctrl-C, SIGTERM and SIGHUP end the session gracefully; a second one exits at once. */
function installStopSignals(abort: AbortController, launched: LaunchedTarget | undefined): () => void {
  const stop = (signal: NodeJS.Signals): void => {
    if (abort.signal.aborted) process.exit(130);
    abort.abort();
    // Ctrl-C reaches a launched child through the terminal already; other signals are passed on.
    if (launched && signal !== 'SIGINT') launched.child.kill(signal);
  };
  const signals: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const signal of signals) process.on(signal, stop);
  return () => signals.forEach((signal) => process.off(signal, stop));
}
