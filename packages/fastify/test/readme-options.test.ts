import { optionsTableContract } from '@switchyard/core/testing';
import { pluginOwnOptionsSchema } from '../src/options.js';

optionsTableContract('fastify plugin', { readme: new URL('../README.md', import.meta.url), section: 'Options (`pluginOptionsSchema`)', schema: pluginOwnOptionsSchema });
