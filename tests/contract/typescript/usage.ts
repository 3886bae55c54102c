// Type-checked with `tsc --noEmit` against `api.ts`, which openapi-typescript generates from the
// gateway's /openapi.json (tests/contract/test_generated_clients.py). A field renamed or a
// type changed in the contract breaks this file, as it would break an integrator's code.
import type { components, operations, paths, webhooks } from "./api";

type Schemas = components["schemas"];
type Json<T> = T extends { content: { "application/json": infer B } } ? B : never;

// Unlock a report cycle: the request body, the Idempotency-Key header and the 201 reply.
type UnlockOperation = paths["/v1/reports/unlocks"]["post"];
const unlockBody: Json<UnlockOperation["requestBody"]> = { factory_id: "factory-1", cycle: 1 };
const unlockHeaders: NonNullable<UnlockOperation["parameters"]["header"]> = {
  "Idempotency-Key": "6f1c2a4e-0000-4000-8000-000000000000",
};
function unlockedCycle(reply: Json<UnlockOperation["responses"][201]>): string {
  return `${reply.factory_id}#${reply.cycle} by ${reply.buyer_org} (${reply.charged_credits} credit)`;
}

// Buy credits: an invoice's body is one of two kinds; the reply carries money as strings.
type InvoiceOperation = operations["billing-create_invoice"];
const invoiceBody: Json<InvoiceOperation["requestBody"]> = {
  kind: "credits",
  year: 2026,
  report_cycles: 2,
};
function invoiceTotal(invoice: Schemas["InvoicePublic"]): string {
  const lines: string[] = invoice.lines.map((line) => line.description);
  return `${invoice.total} ${invoice.currency} (${invoice.status}): ${lines.join("; ")}`;
}

// Every error is an RFC 9457 problem with per-field errors on a 422.
function firstBadField(problem: Json<{ content: { "application/json": Schemas["Problem"] } }>): string {
  return problem.errors?.[0]?.field ?? problem.detail;
}

// A webhook: the event body a receiver gets for `unlock.created`.
type UnlockCreatedDelivery = webhooks["unlock.created"]["post"];
type UnlockCreatedEvent = Json<NonNullable<UnlockCreatedDelivery["requestBody"]>>;
function onUnlockCreated(event: UnlockCreatedEvent): string {
  const kind: "unlock.created" = event.type;
  return `${kind} ${event.id}: ${event.data.unlock_id} for ${event.data.buyer_org}`;
}

export { firstBadField, invoiceBody, invoiceTotal, onUnlockCreated, unlockBody, unlockHeaders, unlockedCycle };
