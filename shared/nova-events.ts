/**
 * Amazon Nova Sonic bidirectional-stream events, the one module to import: types and constants
 * (nova-event-types.ts), input-event builders (nova-event-builders.ts) and the parsers for both
 * directions (nova-event-schemas.ts).
 */
export * from "./nova-event-builders.ts";
export { parseNovaInputEvent, parseNovaOutputEvent } from "./nova-event-schemas.ts";
export * from "./nova-event-types.ts";
