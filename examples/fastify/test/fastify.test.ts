/** What the Fastify example's README says (the node's /health, /ready and /metrics are routes of the app): the suite both framework examples share. */
import { httpExampleSuite } from '../../test/http-example.js';

await httpExampleSuite('fastify', 'the node answers as a route');
