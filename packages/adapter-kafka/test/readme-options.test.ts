import { optionsTableContract } from '@switchyard/core/testing';
import { kafkaOptionsSchema } from '../src/index.js';

optionsTableContract('adapter-kafka', { readme: new URL('../README.md', import.meta.url), section: 'Options', schema: kafkaOptionsSchema });
