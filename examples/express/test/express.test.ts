/** What the Express example's README says (an Express 5 app and a node on one http.Server; node.httpHandler answers /ready and /metrics in the Express app): the suite both framework examples share. */
import { httpExampleSuite } from '../../test/http-example.js';

await httpExampleSuite('express', 'node.httpHandler answers in the Express app');
