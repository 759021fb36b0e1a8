import { optionsTableContract } from '@switchyard/core/testing';
import { redisOptionsSchema } from '../src/index.js';

optionsTableContract('adapter-redis', { readme: new URL('../README.md', import.meta.url), section: 'Options', schema: redisOptionsSchema });
