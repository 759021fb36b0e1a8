import { optionsTableContract } from '@switchyard/core/testing';
import { natsOptionsSchema } from '../src/index.js';

optionsTableContract('adapter-nats', { readme: new URL('../README.md', import.meta.url), section: 'Options', schema: natsOptionsSchema });
