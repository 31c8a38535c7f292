/**
 * What the browser bundle gets for Node modules only servers use (http, https, net, tls, stream...):
 * nothing. The client path never calls them (http requests go through http-exchange's fetch variant);
 * the bundle test checks that none of Node's modules is in the bundle.
 *
 * @example
 * ```ts
 * import * as http from "node:http";   // {} in the browser bundle
 * ```
 */
export {};
