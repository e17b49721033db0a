// A small program of the kind an orchestrator writes against netnsd, typed by
// a client generated from openapi.yaml (openapi-typescript + openapi-fetch).
// openapi/client/check compiles it with --strict and no casts: a change of the
// document that breaks such clients breaks this build.
import createClient from "openapi-fetch";
import type { components, operations, paths } from "./generated/netnsd";

type Problem = components["schemas"]["Problem"];
type ProblemType = Problem["type"];
type Plan = components["schemas"]["Plan"];

// A mutation answers 200 with a plan instead of the object under
// ?dry_run=true: a client narrows the answer before reading it.
function isPlan(data: object): data is Plan {
  return "dry_run" in data;
}

// Exhaustive over the problem types: a new type the document adds without
// this switch learning it fails to compile (the `never` below).
export function advice(type: ProblemType): string {
  switch (type) {
    case "urn:netnsd:problem:invalid-value":
    case "urn:netnsd:problem:malformed-json":
    case "urn:netnsd:problem:invalid-path":
    case "urn:netnsd:problem:malformed-request":
    case "urn:netnsd:problem:unsupported-media-type":
    case "urn:netnsd:problem:body-too-large":
      return "fix the request";
    case "urn:netnsd:problem:unauthorized":
      return "send a valid token";
    case "urn:netnsd:problem:misdirected-request":
      return "use a loopback address or a name in --allowed-host";
    case "urn:netnsd:problem:origin-not-allowed":
      return "call from an origin in --cors-origin";
    case "urn:netnsd:problem:not-found":
    case "urn:netnsd:problem:method-not-allowed":
      return "check the path";
    case "urn:netnsd:problem:already-exists":
    case "urn:netnsd:problem:conflict":
    case "urn:netnsd:problem:reserved-name":
      return "pick another name or converge";
    case "urn:netnsd:problem:unmanaged":
      return "add ?force=true if you mean it";
    case "urn:netnsd:problem:precondition-failed":
      return "someone changed it first: GET it again, then decide";
    case "urn:netnsd:problem:internal":
    case "urn:netnsd:problem:storage-failed":
    case "urn:netnsd:problem:insufficient-storage":
      return "tell the operator";
    case "urn:netnsd:problem:quota-exceeded":
      return "delete something, or ask for a larger --max-objects";
    case "urn:netnsd:problem:kernel-timeout":
      return "the kernel did not answer: look at the host, then retry";
    case "urn:netnsd:problem:busy":
    case "urn:netnsd:problem:not-ready":
    case "urn:netnsd:problem:shutting-down":
      return "retry later";
    default: {
      const unknown: never = type;
      return unknown;
    }
  }
}

// An error answer is netnsd's problem document, or the HTTP library's own
// short HTML refusal (the `default` response): both must be handled.
export function describe(error: Problem | string): string {
  if (typeof error === "string") return "refused by the HTTP layer";
  const fields = (error.errors ?? []).map((e) => `${e.field}: ${e.message}`);
  return `${error.status} ${error.title}: ${error.detail} (${advice(error.type)})${
    fields.length ? "; " + fields.join(", ") : ""
  }`;
}

export async function build(baseUrl: string): Promise<string[]> {
  const api = createClient<paths>({ baseUrl });
  const log: string[] = [];

  const ns = await api.PUT("/v1/namespaces/{ns}", {
    params: { path: { ns: "red" } },
  });
  if (ns.error !== undefined) return [describe(ns.error)];
  if (isPlan(ns.data)) return [`planned ${ns.data.changes.length}`];
  log.push(`namespace ${ns.data.name}, managed ${ns.data.managed}`);

  // `up` is optional: left out, the ends stay down.
  const veth: components["schemas"]["VethCreate"] = {
    name: "h-red",
    peer: { name: "eth0", namespace: "red" },
  };
  const made = await api.POST("/v1/namespaces/{ns}/veths", {
    params: { path: { ns: "host" } },
    body: veth,
  });
  if (made.error !== undefined) return [...log, describe(made.error)];
  if (isPlan(made.data)) return [...log, `planned ${made.data.changes.length}`];
  log.push(`veth ${made.data.name} (${made.data.kind}), up ${made.data.up}`);

  const bridge = await api.POST("/v1/namespaces/{ns}/bridges", {
    params: { path: { ns: "host" } },
    body: { name: "br0", stp: false },
  });
  if (bridge.error !== undefined) return [...log, describe(bridge.error)];

  const port = await api.PUT("/v1/namespaces/{ns}/bridges/{br}/ports/{link}", {
    params: { path: { ns: "host", br: "br0", link: "h-red" } },
  });
  if (port.error !== undefined) return [...log, describe(port.error)];
  if (isPlan(port.data)) return [...log, `planned ${port.data.changes.length}`];
  log.push(`port ${port.data.name}, master ${port.data.master ?? "none"}`);

  const patch: operations["updateLink"]["requestBody"] = {
    content: { "application/json": { mtu: 1400, up: true } },
  };
  // Optimistic concurrency: change the link only if nobody has since it
  // was read (412 precondition-failed otherwise).
  const current = await api.GET("/v1/namespaces/{ns}/links/{link}", {
    params: { path: { ns: "red", link: "eth0" } },
  });
  if (current.error !== undefined) return [...log, describe(current.error)];
  const etag: string = current.response.headers.get("ETag") ?? "*";
  const updated = await api.PATCH("/v1/namespaces/{ns}/links/{link}", {
    params: { path: { ns: "red", link: "eth0" }, header: { "If-Match": etag } },
    body: patch.content["application/json"],
  });
  if (updated.error !== undefined) return [...log, describe(updated.error)];
  if (isPlan(updated.data)) return [...log, "planned"];
  const drift: string[] = updated.data.drift ?? [];
  log.push(`eth0 mtu ${updated.data.mtu ?? "unknown"}, drift ${drift.length}`);

  const links = await api.GET("/v1/namespaces/{ns}/links", {
    params: { path: { ns: "red" } },
  });
  if (links.error !== undefined) return [...log, describe(links.error)];
  for (const l of links.data.items) {
    const addresses: string[] = l.addresses;
    log.push(`${l.namespace}/${l.name}: ${addresses.join(" ")}`);
  }

  const detach: operations["detachBridgePort"]["parameters"]["path"] = {
    ns: "host",
    br: "br0",
    link: "h-red",
  };
  const gone = await api.DELETE(
    "/v1/namespaces/{ns}/bridges/{br}/ports/{link}",
    { params: { path: detach } },
  );
  if (gone.error !== undefined) return [...log, describe(gone.error)];

  const state = await api.GET("/v1/state");
  if (state.error !== undefined) return [...log, describe(state.error)];
  log.push(`revision ${state.data.revision}`);
  return log;
}
