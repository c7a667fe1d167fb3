// A bounded HTTP load: CONNECTIONS clients each send one GET at a time to URL for SECONDS, as a closed
// loop (a new request only when the previous one is answered), so the load never outruns the server.
// Run as its own process by the web scenario; prints {"requests", "errors", "seconds"} as JSON.
//   node dist/bench/load-loop.js URL CONNECTIONS SECONDS

import http from 'node:http';

async function main(): Promise<void> {
  const [url, connections, seconds] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
  const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
  const started = performance.now();
  const deadline = started + seconds * 1000;
  let requests = 0;
  let errors = 0;
  const client = async (): Promise<void> => {
    while (performance.now() < deadline) {
      if (await get(url, agent)) requests++;
      else errors++;
    }
  };
  await Promise.all(Array.from({ length: connections }, client));
  agent.destroy();
  console.log(JSON.stringify({ requests, errors, seconds: (performance.now() - started) / 1000 }));
}

function get(url: string, agent: http.Agent): Promise<boolean> {
  return new Promise((resolve) => {
    const request = http.get(url, { agent }, (response) => {
      response.resume();
      response.on('end', () => resolve(response.statusCode === 200));
      response.on('error', () => resolve(false));
    });
    request.on('error', () => resolve(false));
  });
}

void main();
