"""``DataLoader``: batches of a dataset, in order or shuffled."""

from ..._C import Tensor
from ... import _C
from ..._C import _nn
from .dataset import TensorDataset


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors along a new first dim, numbers into a
    tensor, tuples and dicts element by element."""
    first = batch[0]
    if isinstance(first, Tensor):
        return _C.stack(batch)
    if isinstance(first, (int, float)):
        return _C.tensor(batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, (tuple, list)):
        return [default_collate(list(items)) for items in zip(*batch)]
    return batch


class DataLoader:
    """Iterates over ``dataset`` in batches of ``batch_size``.

    With ``shuffle``, each epoch draws a new order from ``generator``'s stream (a
    ``nabla.Generator``), or from the global generator's, as PyTorch's ``RandomSampler`` draws
    ``randperm(n, generator=...)``: ``nabla.manual_seed(s)`` or ``generator.manual_seed(s)``
    fixes every epoch's order, and each epoch advances the stream."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False,
                 timeout=0, worker_init_fn=None, generator=None, **kwargs):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if sampler is not None and shuffle:
            raise ValueError("sampler option is mutually exclusive with shuffle")
        self.dataset = dataset
        self.batch_size = batch_size
        self.shuffle = shuffle
        self.sampler = sampler
        self.batch_sampler = batch_sampler
        self.num_workers = num_workers
        self.collate_fn = collate_fn
        self.drop_last = drop_last
        self.generator = generator

    def _order(self):
        n = len(self.dataset)
        if self.sampler is not None:
            return list(self.sampler)
        if not self.shuffle:
            return range(n)
        return _nn.permutation(n, self.generator)

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        order = self._order()
        size = self.batch_size
        n = len(order)
        end = n - n % size if self.drop_last else n
        for start in range(0, end, size):
            yield order[start:start + size]

    def __iter__(self):
        fast = self.collate_fn is None and isinstance(self.dataset, TensorDataset)
        for indices in self._batches():
            if fast:
                yield _nn.take_rows(list(self.dataset.tensors), list(indices))
                continue
            samples = [self.dataset[i] for i in indices]
            collate = self.collate_fn or default_collate
            yield collate(samples)

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.dataset)
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
