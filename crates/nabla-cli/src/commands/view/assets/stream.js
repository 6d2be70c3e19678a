// The live link of a run: an EventSource on /api/runs/<id>/events whose lines are applied to
// the run as they arrive. The browser reconnects by itself (sending the last event id, so no
// line is applied twice); when it gives up, the page tries again every few seconds from the
// last offset it saw, and the run shows that its connection was lost meanwhile.

const RETRY_MS = 3000;

/** Follows `run`'s events, calling `changed()` whenever something shown changed. */
export function follow(run, changed) {
  const open = () => {
    const from = run.lastEventId ? `?from=${encodeURIComponent(run.lastEventId)}` : '';
    const source = new EventSource(`/api/runs/${run.id}/events${from}`);
    source.onopen = () => {
      if (run.connection !== 'open') {
        run.connection = 'open';
        changed();
      }
    };
    source.onmessage = (message) => {
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
    };
    source.addEventListener('problem', (message) => {
      let text = message.data;
      try {
        text = JSON.parse(message.data).message ?? text;
      } catch {
        // The problem's data is shown as sent.
      }
      run.problems.push(text);
      changed();
    });
    source.onerror = () => {
      const closed = source.readyState === EventSource.CLOSED;
      run.connection = closed ? 'lost' : 'retrying';
      changed();
      if (closed) setTimeout(open, RETRY_MS);
    };
  };
  open();
}
