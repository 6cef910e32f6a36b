"""What a sweep covers: prompts that vary scene and style, and the last epochs."""

from app.trainer.sweep import last_epochs, sweep_prompts


def test_prompts_vary_scene_and_style_and_the_last_epochs_are_taken():
    prompts = sweep_prompts("sks", "woman")
    assert len(prompts) == 3 and all("sks woman" in p for p in prompts) and len(set(prompts)) == 3
    assert last_epochs([1, 2, 3, 4, 5, 6], 4) == [3, 4, 5, 6]
