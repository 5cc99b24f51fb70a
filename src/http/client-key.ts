import { ipKeyGenerator } from 'express-rate-limit';

/**
 * The key a client's address counts under in every limit: an IPv4 address as
 * is, an IPv6 address by its /56 network — one subscriber is commonly given a
 * /56 or a /64 (RFC 6177), so counting full IPv6 addresses would hand each
 * client billions of budgets.
 */
export const clientKey = (ip: string | undefined): string => ipKeyGenerator(ip ?? 'unknown');
