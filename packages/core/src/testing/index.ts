/**
 * Contract suites every adapter runs, and helpers for tests. Import from
 * `@switchyard/core/testing` in test files only: it depends on vitest.
 */
export { busContract, type BusContractOptions } from './bus-contract.js';
export { adapterContract, throughProxy, CLUSTER_ADAPTER_KEYS, type AdapterContractOptions } from './adapter-contract.js';
export { historyContract, type HistoryContractOptions } from './history-contract.js';
export { restartContract, type RestartContractOptions, type RestartControl, type RestartPorts } from './restart-contract.js';
export { registryContract, makeNode, type RegistryContractOptions } from './registry-contract.js';
export { sessionContract, makeSession, type SessionContractOptions } from './session-contract.js';
export { optionsTableContract, readOptionsTable, compareOptionsTable, type OptionsTableOptions, type OptionsTableDrift } from './options-table.js';
export { Closer, bytes, text, unique, waitFor, sleep, rejectsWithCode } from './helpers.js';
export { serviceUrl, type ServiceName } from './services.js';
export { TcpProxy, type ProxyMode, type TcpProxyOptions } from './tcp-proxy.js';
export { CountingObserver, outcome, jitteryBus, deafBus, flakyRegistry, type LinkMode } from './faults.js';
export { DeliveryChecker, type AckedMessage, type StartPosition, type DeliveredMessage, type GapNotice, type OffsetRange, type ClientRoomReport, type DeliveryTotals, type DeliveryReport } from './delivery-checker.js';
