import { type IncomingMessage, type ServerResponse, STATUS_CODES } from 'node:http';

import type { Identity } from './auth';
import { type Answer, errorAnswer, KNOWN_FORMATS, successAnswer } from './envelope';
import { bareError, PveError, serverError } from './errors';
import { readBody, writeAnswer } from './http-answer';
import { extractParams, mergeUriParams, parseContentType } from './params';
import { parseApiPath, parseRequestTarget } from './path';
import { DataReply, DroppedReply, RawReply } from './replies';
import type { createRouter } from './router';
import type { FakeState } from './state';
import type { FakeRawResponse } from './types';

type Router = ReturnType<typeof createRouter>;

const KNOWN_METHODS = new Set(['GET', 'POST', 'PUT', 'DELETE']);
/** Largest non-upload body pveproxy accepts (pve-http-server AnyEvent.pm, $limit_max_post). */
const MAX_BODY_BYTES = 512 * 1024;
const BODY_TYPES = new Set(['application/x-www-form-urlencoded', 'application/json']);

/**
 * One request, in pve-http-server's order: request line and headers (method, transfer
 * encoding), path shape, authentication, body, format, parameters, handler. Every error thrown
 * on the way is answered here and nowhere else.
 */
export function createRequestHandler(state: FakeState, router: Router) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    const receivedAt = Date.now();
    let format = 'json';

    const run = async () => {
      const record = state.recorder.request(req);
      const method = req.method ?? '';
      verifyRequestHead(method, req);

      const target = parseRequestTarget(req.url ?? '');
      if (!target.path.startsWith('/api2')) {
        throw serverError(500, `no such file '${target.path}'\n`);
      }
      const api = parseApiPath(target.path);
      if (!api) throw serverError(501, 'no such uri');
      format = api.format;

      let identity: Identity | undefined;
      try {
        identity = state.auth.authenticate(method, api.relPath, req.headers);
      } catch (err) {
        // Failed logins always wait the full delay (AnyEvent.pm, authenticate_and_handle_request).
        answerError(state, res, format, err, Date.now());
        return;
      }
      record.body = await readAllowedBody(method, req);

      if (!KNOWN_FORMATS.has(format)) {
        throw serverError(501, `no formatter for uri ${api.relPath}, ${format}`);
      }
      const params = extractParams(method, req.headers['content-type'], record.body, target.query);

      const match = router.match(method, api.relPath);
      if (!match) throw new PveError(501, `Method '${method} ${api.relPath}' not implemented`);
      const urlNode = match.uri.node ?? '';
      const result = await match.route.handler({
        method,
        params: mergeUriParams(params, match.uri),
        urlNode,
        node: urlNode ? state.cluster.resolveNode(urlNode) : '',
        identity,
      });
      answerResult(req, res, format, result);
    };

    run().catch((err: unknown) => answerError(state, res, format, err, receivedAt));
  };
}

/**
 * The one place where an error becomes bytes: PVE's envelope for the request's format, or its
 * bare status line. A 401 from a handler (a wrong password) waits out the authentication delay,
 * counted from the request's arrival.
 */
export function answerError(
  state: FakeState,
  res: ServerResponse,
  format: string,
  err: unknown,
  receivedAt: number,
): void {
  const error = asPveError(err);
  const answer = errorAnswer(format, error, state.options.legacyEnvelope);
  const delayMs = error.status === 401 ? state.options.authDelayMs - (Date.now() - receivedAt) : 0;
  answerAfter(state, res, answer, delayMs);
}

function answerAfter(state: FakeState, res: ServerResponse, answer: Answer, delayMs: number): void {
  const send = () => {
    try {
      writeAnswer(res, answer);
    } catch {
      res.destroy();
    }
  };
  if (delayMs > 0) state.timers.after(delayMs, send);
  else send();
}

/** process_header (AnyEvent.pm): checked before anything else, even before authentication. */
function verifyRequestHead(method: string, req: IncomingMessage): void {
  if (!KNOWN_METHODS.has(method)) throw bareError(501, `method '${method}' not available`);

  const encoding = req.headers['transfer-encoding'];
  if (encoding?.toLowerCase() === 'chunked') {
    throw serverError(501, 'chunked transfer encoding not supported');
  }
  if (encoding) throw serverError(501, `Unknown transfer encoding '${encoding}'`);
}

/** The body is only looked at after authentication; one that is too large is never read. */
async function readAllowedBody(method: string, req: IncomingMessage): Promise<Buffer> {
  const length = Number(req.headers['content-length'] ?? 0);
  if (!(length > 0)) return Buffer.alloc(0);

  if (method !== 'POST' && method !== 'PUT') {
    throw serverError(501, `Unexpected content for method '${method}'`);
  }
  if (length > MAX_BODY_BYTES) throw serverError(501, 'for data too large');
  const contentType = req.headers['content-type'];
  const mediaType = parseContentType(contentType);
  if (mediaType && !BODY_TYPES.has(mediaType)) {
    throw serverError(506, `upload 'Content-Type '${contentType}' not implemented`);
  }
  return readBody(req);
}

function answerResult(
  req: IncomingMessage,
  res: ServerResponse,
  format: string,
  result: unknown,
): void {
  if (result instanceof DroppedReply) {
    req.socket.destroy();
    return;
  }
  if (result instanceof RawReply) {
    writeAnswer(res, rawAnswer(result.response));
    return;
  }
  const answer =
    result instanceof DataReply
      ? successAnswer(format, result.data, result.total)
      : successAnswer(format, result);
  writeAnswer(res, answer);
}

/** Anything that is not already a PVE error is a plain Perl `die`: HTTP 500. */
function asPveError(err: unknown): PveError {
  if (err instanceof PveError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new PveError(500, message.endsWith('\n') ? message : `${message}\n`);
}

function rawAnswer(response: FakeRawResponse): Answer {
  return {
    status: response.status,
    reason: response.reason ?? STATUS_CODES[response.status] ?? 'Unknown',
    body: response.body,
    headers: response.headers,
  };
}
