# FAD plus logit KD (softmax KL at T=4 on head.fc_cls) in one run.
_base_ = ['./fad_pointnet2-ssg-40x_1xb16-cpu_synthetic-modelnet40.py']

distiller = dict(
    distill_losses=dict(
        loss_kd_cls=dict(
            type='KDLogitLoss',
            mode='softmax',
            temperature=4.0,
            loss_weight=1.0,
            student='head.fc_cls',
            teacher='head.fc_cls')))
