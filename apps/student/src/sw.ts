// The service worker (Workbox): the app shell precached (the list is written in at build time by
// scripts/inject-manifest.mjs), every navigation answered with index.html so the app starts offline,
// /config.json from the network with the cached copy as fallback, and Background Sync: the 'sync'
// event wakes the open app to send its queue. Tokens never reach the worker (they stay in the
// page's sessionStorage), so the worker itself sends nothing.
/// <reference lib="webworker" />
import { clientsClaim } from 'workbox-core';
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { NetworkFirst } from 'workbox-strategies';

declare const self: ServiceWorkerGlobalScope & { __WB_MANIFEST: { url: string; revision: string | null }[] };

self.skipWaiting();
clientsClaim();
cleanupOutdatedCaches();
precacheAndRoute(self.__WB_MANIFEST);
registerRoute(new NavigationRoute(createHandlerBoundToURL('/index.html'), {
  denylist: [/^\/api\//, /^\/mentor\//, /^\/auth\/callback/],
}));
// the callback carries ?code=…: served from the shell too, but never matched by a cached URL with a query
registerRoute(({ request, url }) => request.mode === 'navigate' && url.pathname === '/auth/callback',
  createHandlerBoundToURL('/index.html'));
registerRoute(({ url }) => url.pathname === '/config.json', new NetworkFirst({ cacheName: 'werkplek-config', networkTimeoutSeconds: 3 }));

self.addEventListener('sync', (event: Event) => {
  const e = event as ExtendableEvent & { tag: string };
  if (e.tag !== 'werkplek-sync') return;
  e.waitUntil(self.clients.matchAll({ type: 'window' }).then((clients) => {
    for (const c of clients) c.postMessage({ type: 'sync' });
  }));
});
