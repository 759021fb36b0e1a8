import { optionsTableContract } from '@switchyard/core/testing';
import { emitterOptionsSchema, nodeOptionsSchema } from '../src/index.js';

const readme = new URL('../README.md', import.meta.url);
optionsTableContract('transport-ws createNode', { readme, section: 'Options (`nodeOptionsSchema`)', schema: nodeOptionsSchema });
optionsTableContract('transport-ws createEmitter', { readme, section: 'Publishing from workers and serverless functions (`@switchyard/transport-ws/emitter`)', schema: emitterOptionsSchema });
