import type { Identity } from './auth';
import type { ParamMap } from './params';
import { splitSegments } from './path';

/** One API call after routing: its parameters already carry the URL's template values. */
export interface ApiCall {
  method: string;
  params: ParamMap;
  /** The `{node}` of the URL as written (`localhost` included). */
  urlNode: string;
  /** The node that executes the call: `localhost` resolved. Empty for routes without `{node}`. */
  node: string;
  /** Undefined for the calls PVE answers without login. */
  identity?: Identity;
}

export type ApiHandler = (call: ApiCall) => unknown;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** Like `/nodes/{node}/lxc/{vmid}/clone`. */
  path: string;
  handler: ApiHandler;
}

export interface RouteMatch {
  route: Route;
  uri: Record<string, string>;
}

/**
 * Matches an API path like pve-common RESTHandler.pm (find_handler): the path is split on runs of
 * `/`, fixed segments compare exactly and case-sensitively, and a `{name}` segment takes any
 * segment without whitespace (the schema checks it later). Dot segments are not resolved.
 */
export function createRouter(routes: Route[]) {
  const compiled = routes.map((route) => ({ route, segments: splitSegments(route.path) }));

  return {
    match(method: string, relPath: string): RouteMatch | undefined {
      const segments = splitSegments(relPath);

      for (const { route, segments: pattern } of compiled) {
        if (route.method !== method || pattern.length !== segments.length) continue;

        const uri: Record<string, string> = {};
        const matches = pattern.every((part, i) => {
          const name = /^\{(\w+)\}$/.exec(part)?.[1];
          if (!name) return part === segments[i];
          uri[name] = segments[i];
          return !/\s/.test(segments[i]);
        });
        if (matches) return { route, uri };
      }
      return undefined;
    },
  };
}
