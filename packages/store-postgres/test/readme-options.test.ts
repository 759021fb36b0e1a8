import { optionsTableContract } from '@switchyard/core/testing';
import { postgresOptionsSchema } from '../src/index.js';

optionsTableContract('store-postgres', { readme: new URL('../README.md', import.meta.url), section: 'Options', schema: postgresOptionsSchema });
