"""Process-reward scoring as upstream does it with Qwen2.5-Math-PRM, batched.

Assumed model interface (Qwen2.5-Math-PRM-7B's remote code satisfies it, and so does
``transformers.Qwen2ForTokenClassification`` with ``num_labels=2``): called with ``input_ids``
and ``attention_mask`` it returns an output whose first element (``.logits`` or ``[0]``) has shape
``[batch, tokens, 2]``; class 1 is "this step is correct".
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from optscale_gen._prompts import STEP_TAG, prm_messages


class PrmScorer:
    r"""Per-step rewards, their mean (``scores``) and last (``last_scores``), as upstream.

    Parameters
    ----------
    model
        A PRM as described in the module docstring, on its device, in eval mode.
    tokenizer
        Its tokenizer; [`STEP_TAG`][optscale_gen.STEP_TAG] must be one token of it.
    batch_size
        Conversations per forward pass. Batches are formed after sorting by length (longest
        first), right-padded; the causal model makes padding invisible to the real tokens.

    Notes
    -----
    For a completion with steps $s_1, \dots, s_m$ (split on blank lines) the PRM reads the
    conversation [system prompt, problem, $s_1$ ``<extra_0>`` ... $s_m$ ``<extra_0>``] and the
    reward of step $i$ is $r_i = \mathrm{softmax}(z_{t_i})_1$, the positive-class probability at
    the position $t_i$ of the $i$-th tag. Then ``score`` $= \frac{1}{m}\sum_i r_i$ and
    ``last_score`` $= r_m$; both are 0 when no tag is found (upstream's rule).
    """

    def __init__(self, model: Any, tokenizer: Any, *, batch_size: int = 8) -> None:
        if batch_size < 1:
            raise ValueError(f"batch_size must be >= 1, got {batch_size}")
        tag_ids = tokenizer.encode(STEP_TAG, add_special_tokens=False)
        if len(tag_ids) != 1:
            raise ValueError(f"the PRM tokenizer splits {STEP_TAG!r} into {len(tag_ids)} tokens")
        if getattr(tokenizer, "chat_template", None) is None:
            raise ValueError("the PRM tokenizer has no chat template")
        self.model = model.eval()
        self.tokenizer = tokenizer
        self.batch_size = batch_size
        self.tag_id = int(tag_ids[0])
        pad_id = tokenizer.pad_token_id
        self.pad_id = int(tokenizer.eos_token_id if pad_id is None else pad_id)

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        batch_size: int = 8,
        device: str = "cpu",
        dtype: str = "auto",
        trust_remote_code: bool = False,
    ) -> PrmScorer:
        """Load a PRM directory (or hub name).

        A checkpoint whose config maps ``AutoModel`` to remote code (Qwen2.5-Math-PRM's
        ``Qwen2ForProcessRewardModel``) loads through ``AutoModel`` and needs
        ``trust_remote_code=True``; any other loads as ``AutoModelForTokenClassification``.
        """
        import transformers

        name = str(path)
        config = transformers.AutoConfig.from_pretrained(name, trust_remote_code=trust_remote_code)
        remote = "AutoModel" in (getattr(config, "auto_map", None) or {})
        loader = transformers.AutoModel if remote else transformers.AutoModelForTokenClassification
        model = loader.from_pretrained(name, dtype=dtype, trust_remote_code=trust_remote_code)
        tokenizer = transformers.AutoTokenizer.from_pretrained(
            name, trust_remote_code=trust_remote_code
        )
        return cls(model.to(device), tokenizer, batch_size=batch_size)

    def step_rewards(
        self, problems: Sequence[str], completions: Sequence[str]
    ) -> list[npt.NDArray[np.float64]]:
        """Reward of every step of every completion.

        Parameters
        ----------
        problems, completions
            Aligned sequences: completion ``i`` answers ``problems[i]`` (raw problem text).

        Returns
        -------
        list of ndarray
            One float array per completion, one entry per ``<extra_0>`` tag.
        """
        if len(problems) != len(completions):
            raise ValueError(f"{len(problems)} problems but {len(completions)} completions")
        encoded = [self._encode(p, c) for p, c in zip(problems, completions, strict=True)]
        order = sorted(range(len(encoded)), key=lambda i: (-len(encoded[i]), i))
        rewards: list[npt.NDArray[np.float64]] = [np.empty(0)] * len(encoded)
        for start in range(0, len(order), self.batch_size):
            batch = order[start : start + self.batch_size]
            values = self._forward([encoded[i] for i in batch])
            for index, row in zip(batch, values, strict=True):
                rewards[index] = row
        return rewards

    def score(
        self, problems: Sequence[str], completions: Sequence[str]
    ) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
        """Mean and last step reward of each completion (0 where no step was found).

        Returns
        -------
        scores, last_scores
            Float arrays aligned with ``completions``.
        """
        rewards = self.step_rewards(problems, completions)
        scores = np.array([r.mean() if r.size else 0.0 for r in rewards], dtype=np.float64)
        last = np.array([r[-1] if r.size else 0.0 for r in rewards], dtype=np.float64)
        return scores, last

    def input_tokens(self, problems: Sequence[str], completions: Sequence[str]) -> list[int]:
        """Tokens the PRM reads for each (problem, completion): what scoring it costs."""
        return [len(self._encode(p, c)) for p, c in zip(problems, completions, strict=True)]

    def _encode(self, problem: str, completion: str) -> list[int]:
        text = self.tokenizer.apply_chat_template(
            prm_messages(problem, completion), tokenize=False, add_generation_prompt=False
        )
        return list(self.tokenizer(text)["input_ids"])

    def _forward(self, sequences: list[list[int]]) -> list[npt.NDArray[np.float64]]:
        import torch

        width = max(len(s) for s in sequences)
        ids = torch.full((len(sequences), width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((len(sequences), width), dtype=torch.long)
        for row, sequence in enumerate(sequences):
            ids[row, : len(sequence)] = torch.tensor(sequence, dtype=torch.long)
            mask[row, : len(sequence)] = 1
        device = self.model.device
        with torch.inference_mode():
            output = self.model(input_ids=ids.to(device), attention_mask=mask.to(device))
        logits = output.logits if hasattr(output, "logits") else output[0]
        positive = torch.softmax(logits.float(), dim=-1)[..., 1].cpu().numpy()
        tags = ((ids == self.tag_id) & (mask == 1)).numpy()
        return [positive[row][tags[row]].astype(np.float64) for row in range(len(sequences))]
