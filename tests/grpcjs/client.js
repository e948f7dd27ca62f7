// A proxyless gRPC client in Node.js: @grpc/grpc-js with @grpc/grpc-js-xds
// resolving an xds:/// target through fairway, for tests/grpcjs_test.go.
//
//   GRPC_XDS_BOOTSTRAP_CONFIG='<json>' node client.js xds:///svc.ns.svc.cluster.local:50051 [n] [--hold]
//
// (GRPC_XDS_BOOTSTRAP=<file> works too, and wins over the _CONFIG variable.)
// It makes n (default 10) grpc.health.v1.Health/Check RPCs one after the
// other and prints, one line per RPC, the backend that answered (the
// "backend" response header the test servers set). On the first error it
// prints the error to stderr and exits 1. With --hold it then keeps the
// channel, and so its xDS stream, open until stdin closes, for the test to
// look at the node in fairway's /debug/nodes.
'use strict';

const grpc = require('@grpc/grpc-js');
require('@grpc/grpc-js-xds').register();

const args = process.argv.slice(2);
const hold = args.includes('--hold');
const [target, count] = args.filter((a) => a !== '--hold');
const n = Number(count || 10);
const timeoutMs = Number(process.env.RPC_TIMEOUT_MS || 15000);
if (!target || !(n > 0)) {
  console.error('usage: client.js xds:///<service>.<namespace>.svc.cluster.local:<port> [n] [--hold]');
  process.exit(2);
}

// HealthCheckRequest{service: ""} encodes to zero bytes; HealthCheckResponse
// is field 1 (status, an enum varint), so SERVING (1) is 08 01.
const serialize = () => Buffer.alloc(0);
function deserialize(buf) {
  let status = 0; // UNKNOWN
  if (buf.length >= 2 && buf[0] === 0x08) {
    status = buf[1];
  }
  return { status };
}

const client = new grpc.Client(target, grpc.credentials.createInsecure());

function check() {
  return new Promise((resolve, reject) => {
    const md = new grpc.Metadata({ waitForReady: true });
    let backend = '';
    const call = client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check', serialize, deserialize, {}, md,
      { deadline: Date.now() + timeoutMs },
      (err, resp) => {
        if (err) {
          reject(err);
        } else if (resp.status !== 1) {
          reject(new Error(`health status ${resp.status}, want SERVING (1)`));
        } else {
          resolve(backend);
        }
      });
    call.on('metadata', (header) => {
      backend = header.get('backend').join(',');
    });
  });
}

(async () => {
  try {
    for (let i = 0; i < n; i++) {
      console.log(await check());
    }
  } catch (err) {
    console.error(`RPC to ${target} failed: code ${err.code} ${err.details || err.message}`);
    process.exit(1);
  }
  const done = () => {
    client.close();
    // The xDS client's stream to the control plane would keep the loop alive.
    process.exit(0);
  };
  if (hold) {
    process.stdin.on('end', done);
    process.stdin.resume();
  } else {
    done();
  }
})();
