export { SipParseError } from './errors.js';
export { SipMessage, type HeaderField, type ParseOptions } from './message.js';
export { parseUri, formatUri, uriEquals, unescape, isIPv4, isIPv6, type SipUri } from './uri.js';
export { parseNameAddr, parseNameAddrList, parseHeaderParams, rawDisplayName, type NameAddr } from './nameaddr.js';
export { parseVia, parseOneVia, type Via } from './via.js';
export { buildReply, defaultReason, type ReplyOptions } from './reply.js';
export { findMessageEnd, SipFramingError } from './framing.js';
export { validateRequest, validateReply } from './validate.js';
export { canonicalName, splitList } from './header-names.js';
