// Loads the run page's modules one after another, each after the modules it imports, so the
// browser asks for one file at a time over the connection it already has. Left to itself it
// would open a new connection for each of several files at once, and `nabla view`'s server
// (tiny_http) can leave a connection that arrives in such a burst unanswered while the others
// stay open (the browser keeps them for the event streams and later requests).

const ORDER = ['svg.js', 'chart.js', 'run.js', 'stream.js', 'curves.js', 'histograms.js', 'gradnorms.js', 'graph.js', 'pictures.js', 'app.js'];

for (const name of ORDER) await import(`./${name}`);
