"""Loading a student checkpoint into a distiller."""


def test_load_student_weights_from_plain_and_distillation_checkpoints(
        tmp_path):
    import torch
    from torch import nn

    from distill3d.utils import load_student_weights

    class Distiller(nn.Module):

        def __init__(self):
            super().__init__()
            self.student = nn.Linear(3, 2)
            self.adapter = nn.Linear(2, 4)

    source = Distiller()
    plain = tmp_path / 'plain.pth'
    torch.save(dict(state_dict=source.student.state_dict()), plain)
    distill = tmp_path / 'distill.pth'
    state = {f'student.{k}': v for k, v in source.student.state_dict().items()}
    state['teacher.weight'] = torch.zeros(1)  # not in the target: ignored
    torch.save(dict(state_dict=state), distill)
    for path in (plain, distill):
        target = Distiller()
        load_student_weights(target, str(path))
        assert torch.equal(target.student.weight, source.student.weight)
        assert not torch.equal(target.adapter.weight, source.adapter.weight)
