/**
 * KSR argument values as the bindings read them. The engine already converts by declared type
 * (an `int` parameter arrives as an integer, a `str` one as a string or null for nil); these
 * turn what is left (nil, a number where a string is wanted) into Kamailio's defaults.
 */
import type { KemiArg } from './types.js';

/** A string argument; nil reads as the empty string. */
export const str = (v: KemiArg): string => (v === null || v === undefined ? '' : String(v));

/** An integer argument; nil or a non-numeric string reads as 0. */
export const int = (v: KemiArg): number => (typeof v === 'number' ? Math.trunc(v) : Number.parseInt(String(v ?? ''), 10) || 0);
