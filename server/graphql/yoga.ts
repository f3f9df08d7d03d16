/**
 * The GraphQL server. `createYoga(deps)` builds one over a set of services; the Next.js route serves
 * it at /api/graphql, and integration tests call `yoga.fetch(...)` in-process.
 */
import { EnvelopArmorPlugin } from '@escape.tech/graphql-armor';
import { createSchema, createYoga as createYogaServer, type YogaServerInstance } from 'graphql-yoga';
import type { Services } from '../services';
import { clientAddressOf, type GraphQLContext } from './context';
import { maskError, yogaLogger } from './errors';
import { createLoaders } from './loaders';
import { csrfPlugin, queueCookie, responseHeadersPlugin, validationErrorCodePlugin } from './plugins';
import { resolvers } from './resolvers';
import { typeDefs } from './schema';

export const GRAPHQL_ENDPOINT = '/api/graphql';

export const LIMITS = {
  maxDepth: 12,
  maxCost: 5000,
  maxAliases: 15,
  maxDirectives: 30,
  maxTokens: 2000,
  maxBodyBytes: 1_000_000,
};

export interface YogaDeps {
  services: Services;
  /** GraphiQL (development only; its assets come from a CDN). */
  graphiql?: boolean;
  /** Use the host framework's Response class (Next.js route handlers). */
  fetchAPI?: { Response: typeof Response };
}

type ServerContext = Record<string, unknown>;
export type LensgraphYoga = YogaServerInstance<ServerContext, GraphQLContext>;

export function createYoga({ services, graphiql = false, fetchAPI }: YogaDeps): LensgraphYoga {
  const schema = createSchema<ServerContext & GraphQLContext>({ typeDefs, resolvers });
  return createYogaServer<ServerContext, GraphQLContext>({
    schema,
    graphqlEndpoint: GRAPHQL_ENDPOINT,
    graphiql: graphiql ? { headers: JSON.stringify({ 'x-lensgraph-csrf': '1' }) } : false,
    landingPage: false,
    // Same-origin only: no CORS headers at all, so cross-site scripts cannot read or preflight.
    cors: false,
    healthCheckEndpoint: `${GRAPHQL_ENDPOINT}/live`,
    maxRequestBodySize: LIMITS.maxBodyBytes,
    maskedErrors: { maskError: (error) => maskError(error) },
    logging: yogaLogger(services.log.child({ component: 'graphql' })),
    ...(fetchAPI ? { fetchAPI } : {}),
    plugins: [
      csrfPlugin(),
      responseHeadersPlugin(),
      validationErrorCodePlugin(),
      EnvelopArmorPlugin({
        maxDepth: { n: LIMITS.maxDepth },
        costLimit: { maxCost: LIMITS.maxCost },
        maxAliases: { n: LIMITS.maxAliases },
        maxDirectives: { n: LIMITS.maxDirectives },
        maxTokens: { n: LIMITS.maxTokens },
        blockFieldSuggestion: { enabled: true },
      }),
    ],
    context: async ({ request }): Promise<GraphQLContext> => {
      const viewer = await services.auth.authenticate(request.headers);
      return {
        services,
        viewer,
        clientAddress: clientAddressOf(request.headers),
        setCookie: (value) => queueCookie(request, value),
        signal: request.signal,
        loaders: createLoaders(services, viewer),
      };
    },
  });
}
