import { readEnvelopeData } from '../pve/answer';
import { getFromPve } from '../upstream/pve-get';
import type { CloneContext } from './clone-context';

/**
 * PVE accepts `localhost` for the node that received the request. To put such a clone in the
 * right per-node lane, ask PVE once which node it is (`GET /cluster/status`, the entry with
 * `local: 1`), with the client's own credentials, and remember the answer.
 */
export class LocalNode {
  private name: string | undefined;

  known(): string | undefined {
    return this.name;
  }

  async resolve(
    credentials: string[],
    context: Pick<CloneContext, 'config' | 'upstream' | 'logger'>,
    requestId?: string,
  ): Promise<string | undefined> {
    if (this.name) return this.name;

    try {
      const answer = await getFromPve(context, '/api2/json/cluster/status', credentials);
      const entries = readEnvelopeData(answer);
      const local = Array.isArray(entries)
        ? entries.find((entry) => entry?.type === 'node' && Number(entry?.local) === 1)
        : undefined;
      if (typeof local?.name === 'string') this.name = local.name;
    } catch (error) {
      context.logger.warn('cannot tell which node localhost is; using a lane of its own', {
        requestId,
        reason: (error as Error).message,
      });
    }
    return this.name;
  }
}
