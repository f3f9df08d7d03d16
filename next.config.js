// @ts-check
/**
 * Next.js configuration (ESM: package.json has "type": "module").
 * The database and queue clients are loaded by Node at run time rather than bundled: they use
 * optional native modules and dynamic requires that bundlers mishandle.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.dirname(fileURLToPath(import.meta.url));

/** @type {import('next').NextConfig} */
const nextConfig = {
  serverExternalPackages: ['neo4j-driver', 'ioredis', 'bullmq', 'msgpackr'],
  // `output: 'standalone'` (for the container image) is left to the Dockerfile session: `next start`,
  // which the scripts use, warns when it is set.
  outputFileTracingRoot: root,
  turbopack: { root },
  poweredByHeader: false,
  // Types are checked by `npm run typecheck` (tsc over the whole repository, run by scripts/test.sh);
  // the web build does not repeat it, so work in progress elsewhere (pipeline, scripts) cannot block it.
  typescript: { ignoreBuildErrors: true },
  reactStrictMode: true,
  // The app is served from 127.0.0.1 behind whatever the operator puts in front; no telemetry, no images CDN.
  images: { unoptimized: true },
  async headers() {
    return [
      {
        source: '/:path*',
        headers: [
          { key: 'X-Content-Type-Options', value: 'nosniff' },
          { key: 'X-Frame-Options', value: 'DENY' },
          { key: 'Referrer-Policy', value: 'same-origin' },
          { key: 'Permissions-Policy', value: 'camera=(), microphone=(), geolocation=()' },
        ],
      },
    ];
  },
};

export default nextConfig;
