// Public surface of Kite's in-process rtnetlink binding: the request client, the event monitor,
// typed routes/links/addresses/neighbours and the protocol constants.

export { Netlink, simpleRequest, type NetlinkOptions, type NlRequest } from './client.js';
export { NetlinkMonitor, type MonitorEvent, type MonitorOptions, type LinkChange } from './monitor.js';
export { NetlinkError, throwIfFailed, type NlResult, type NlFailure, type NlOk } from './errors.js';
export { ROUTE_TYPES, describeRoute, type Route, type RouteSpec, type RouteType, type Nexthop } from './route.js';
export type { Link, LinkSet, LinkCreate, VxlanCreate, VxlanInfo } from './link.js';
export type { Address, AddressSpec } from './addr.js';
export type { Neighbour, NeighbourSpec, FdbEntry, FdbSpec } from './neigh.js';
export type { IpFamily } from './ip.js';
export { NlWriter } from './writer.js';
export * from './constants.js';
