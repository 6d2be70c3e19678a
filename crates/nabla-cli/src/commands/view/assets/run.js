// One served run as the page knows it: what /api/runs said of it and every event of its
// events.jsonl applied in order (see docs/events.md). A `resume` event drops what was
// recorded after the epoch the run resumed from.

/** Event types whose records belong to an epoch, kept as lists. */
const PER_EPOCH = ['epochs', 'steps', 'probes', 'graphs', 'boundaries', 'filters', 'featureMaps'];

export class Run {
  constructor(info, index) {
    this.index = index;
    this.id = info.id;
    this.name = info.name;
    this.path = info.path;
    this.format = info.format;
    this.status = info.status;
    this.problems = info.problem ? [info.problem] : [];
    this.connection = 'connecting';
    this.lastEventId = null;
    this.reset();
  }

  /** Forgets every event applied. */
  reset() {
    this.header = null;
    this.end = null;
    for (const list of PER_EPOCH) this[list] = [];
  }

  /** Applies one event; returns whether it changed what the page shows. */
  apply(event) {
    switch (event.type) {
      case 'run':
        // The log's first line: met again, the log is being read from its start again (the
        // server restarts a file that was replaced), so what came before is dropped.
        if (this.header) this.reset();
        this.header = event;
        if (event.name) this.name = event.name;
        return true;
      case 'resume':
        // The rule of `current` in crates/nabla-cli/src/run_events.rs, restated for the page (the
        // two languages cannot share it): a resume after epoch k drops every event of a later
        // epoch seen before it, and the earlier attempt's end.
        if (this.header && typeof event.epochs === 'number') this.header = { ...this.header, epochs: event.epochs };
        for (const list of PER_EPOCH) this[list] = this[list].filter((e) => e.epoch <= event.epoch);
        this.end = null;
        this.status = 'training';
        return true;
      case 'epoch':
        this.epochs = this.epochs.filter((e) => e.epoch !== event.epoch).concat([event]);
        return true;
      case 'steps':
        this.steps.push(event);
        return true;
      case 'probe':
        this.probes = this.probes.filter((e) => e.epoch !== event.epoch).concat([event]);
        return true;
      case 'graph':
        this.graphs.push(event);
        return true;
      case 'boundary':
        this.boundaries.push(event);
        return true;
      case 'filters':
        this.filters.push(event);
        return true;
      case 'feature_maps':
        this.featureMaps.push(event);
        return true;
      case 'end':
        this.end = event;
        this.status = event.status;
        return true;
      default:
        return false;
    }
  }

  /** Epochs the run is to train, when its first event said. */
  get plannedEpochs() {
    return this.header?.epochs ?? null;
  }

  get stepsPerEpoch() {
    return this.header?.steps_per_epoch ?? null;
  }

  /** Whether the run's metric besides the loss is accuracy (classification) or MAE. */
  get isRegression() {
    return this.header?.task === 'regression' || this.epochs.some((e) => e.train_mae !== undefined);
  }

  /** Layers with parameters, in the order of the gradient norms of `steps` events. */
  get gradientLayers() {
    return (this.header?.layers ?? []).filter((l) => l.has_parameters);
  }

  layerLabel(index) {
    const layer = (this.header?.layers ?? []).find((l) => l.index === index);
    return layer ? layer.label : `layer ${index}`;
  }

  /** The latest record in `list` at or before `epoch` (the latest of all without one). */
  latest(list, epoch = Infinity) {
    let best = null;
    for (const item of this[list]) {
      if (item.epoch <= epoch && (best === null || item.epoch >= best.epoch)) best = item;
    }
    return best;
  }
}
