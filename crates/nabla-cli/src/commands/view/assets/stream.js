// The live link of each run: an EventSource on /api/runs/<id>/events whose lines are applied to
// the run as they arrive.
//
// A browser opens at most six connections to one server, and every open stream holds one, so
// at most MAX_OPEN streams are open at a time and the rest wait: a run's stream closes once its
// `end` line is read (nothing follows it), and a run still being written gives its place to a
// waiting one after a second without news, to reopen later from the offset it had reached
// (`?from=`). With few runs every stream simply stays open. Streams open one after another
// (the next once the last has answered), never in a burst of new connections.
//
// The browser reconnects a dropped stream by itself (sending the last event id, so no line is
// applied twice); when it gives up, the page tries again every few seconds, and the run shows
// that its connection was lost meanwhile.

const MAX_OPEN = 4;
const IDLE_MS = 1000;
const RETRY_MS = 3000;

const waiting = [];
let open = 0;

/** Follows `run`'s events, calling `changed()` whenever something shown changed. */
export function follow(run, changed) {
  waiting.push({ run, changed });
  pump();
}

/** Whether a stream is being opened: streams open one at a time, not in a burst. */
let opening = false;

function pump() {
  if (!opening && open < MAX_OPEN && waiting.length) {
    opening = true;
    connect(waiting.shift());
  }
}

/** The stream being opened has answered (or failed): the next may open. */
function opened() {
  if (opening) {
    opening = false;
    pump();
  }
}

function connect(follower) {
  const { run, changed } = follower;
  open += 1;
  const from = run.lastEventId ? `?from=${encodeURIComponent(run.lastEventId)}` : '';
  const source = new EventSource(`/api/runs/${run.id}/events${from}`);
  let idle = null;
  let released = false;
  const release = () => {
    if (released) return;
    released = true;
    clearTimeout(idle);
    source.close();
    open -= 1;
    pump();
  };
  const watchIdle = () => {
    clearTimeout(idle);
    idle = setTimeout(() => {
      if (waiting.length) {
        release();
        waiting.push(follower);
        pump();
      } else {
        watchIdle();
      }
    }, IDLE_MS);
  };

  source.onopen = () => {
    opened();
    watchIdle();
    if (run.connection !== 'open') {
      run.connection = 'open';
      changed();
    }
  };
  source.onmessage = (message) => {
    watchIdle();
    if (message.lastEventId) run.lastEventId = message.lastEventId;
    let event;
    try {
      event = JSON.parse(message.data);
    } catch {
      run.problems.push(`an event of ${run.path}/events.jsonl is not JSON: ${message.data.slice(0, 80)}`);
      changed();
      return;
    }
    if (event && typeof event === 'object' && run.apply(event)) changed();
    if (event?.type === 'end') release();
  };
  source.addEventListener('problem', (message) => {
    watchIdle();
    let text = message.data;
    try {
      text = JSON.parse(message.data).message ?? text;
    } catch {
      // Not JSON: the problem is shown as the server sent it.
    }
    if (!run.problems.includes(text)) run.problems.push(text);
    changed();
  });
  source.onerror = () => {
    opened();
    const closed = source.readyState === EventSource.CLOSED;
    run.connection = closed ? 'lost' : 'retrying';
    changed();
    if (closed) {
      release();
      setTimeout(() => {
        waiting.push(follower);
        pump();
      }, RETRY_MS);
    }
  };
}
