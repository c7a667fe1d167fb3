// The extra outputs of a web recording: one profile per request that carried the hotpath marker
// (`<stem>.request-<n>.<ext>`) and, with --split-endpoints, one per endpoint (`<stem>.endpoint-<name>.<ext>`),
// written beside the main output in the same format.

import { ProfileBuilder, endpointLabel, filterProfile, type Profile, type ProfileMeta } from '../profile/index.js';
import type { RawSample } from '../sampler/index.js';

/** Collects the samples of each marked request into its own builder, numbered in order of appearance. */
export class MarkedRequestProfiles {
  private readonly builders = new Map<string, ProfileBuilder>();
  private readonly commands = new Map<number, string>();

  noteProcess(pid: number, command: string): void {
    this.commands.set(pid, command);
  }

  add(sample: RawSample): void {
    if (sample.markedRequest === undefined) return;
    let builder = this.builders.get(sample.markedRequest);
    if (!builder) {
      builder = new ProfileBuilder();
      this.builders.set(sample.markedRequest, builder);
    }
    builder.addProcess(sample.pid, this.commands.get(sample.pid) ?? '');
    builder.addSample(sample);
  }

  /**
   * One profile per marked request, in the order the requests were first sampled, its endpoint labels merged by
   * `aliases` (ProfileBuilder.mergeEndpoints).
   */
  build(
    meta: Omit<ProfileMeta, 'stats'> & Partial<Pick<ProfileMeta, 'stats'>>,
    aliases: ReadonlyMap<string, string>,
  ): Profile[] {
    return [...this.builders.values()].map((builder) => {
      builder.mergeEndpoints(aliases);
      return builder.build(meta);
    });
  }
}

/** `profile.svg` + "request-1" → `profile.request-1.svg`; a name without the extension keeps its whole name. */
export function siblingOutputPath(output: string, extension: string, suffix: string): string {
  const stem = output.endsWith(`.${extension}`) ? output.slice(0, -extension.length - 1) : output;
  return `${stem}.${suffix}.${extension}`;
}

/** One profile per endpoint ("(no request)" included), with a file-name-safe suffix for each. */
export function splitByEndpoint(profile: Profile): { suffix: string; label: string; profile: Profile }[] {
  const endpoints = new Set(profile.samples.endpoint);
  const used = new Set<string>();
  return [...endpoints]
    .sort((a, b) => a - b)
    .map((endpoint) => {
      const label = endpointLabel(profile, endpoint);
      let suffix = `endpoint-${fileSafe(label)}`;
      for (let n = 2; used.has(suffix); n++) suffix = `endpoint-${fileSafe(label)}-${n}`;
      used.add(suffix);
      return { suffix, label, profile: filterProfile(profile, (i) => profile.samples.endpoint[i] === endpoint) };
    });
}

/** "GET /users/{id}" → "GET-users-id"; "(no request)" → "no-request". */
function fileSafe(label: string): string {
  return (
    label
      .replace(/[^A-Za-z0-9._-]+/g, '-')
      .replace(/^-+|-+$/g, '')
      .slice(0, 80) || 'root'
  );
}
