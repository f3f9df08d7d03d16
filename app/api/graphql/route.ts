/** GraphQL endpoint: the Yoga server from server/graphql, over the process's services. */
import { yoga } from '../../../server/context';

export const dynamic = 'force-dynamic';

const handler = (request: Request): Promise<Response> => Promise.resolve(yoga().handleRequest(request, {}));

export { handler as GET, handler as POST, handler as OPTIONS };
