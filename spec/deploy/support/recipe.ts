import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

export const DEPLOY_DIR = join(__dirname, '..', '..', '..', 'docs', 'deploy');

/** The text of a file under docs/deploy. */
export function readRecipe(name: string): string {
  return readFileSync(join(DEPLOY_DIR, name), 'utf8');
}

/**
 * The recipe with each example value replaced. Every value must occur, so that a changed
 * recipe fails here instead of quietly testing something else than the docs say.
 */
export function renderRecipe(text: string, substitutions: [string, string][]): string {
  let rendered = text;
  for (const [from, to] of substitutions) {
    if (!rendered.includes(from)) throw new Error(`recipe no longer contains ${from}`);
    rendered = rendered.split(from).join(to);
  }
  return rendered;
}

/** A loopback port that was free a moment ago: listen on port 0, note the port, close. */
export function pickFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** `127.0.0.1:8081` from `http://127.0.0.1:8081`. */
export function hostPort(url: string): string {
  return new URL(url).host;
}
