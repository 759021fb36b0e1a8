/**
 * `npm run demo`: runs a local Switchyard cluster and prints what it does.
 */
import { clusterTour } from './cluster-tour.js';

await clusterTour();
