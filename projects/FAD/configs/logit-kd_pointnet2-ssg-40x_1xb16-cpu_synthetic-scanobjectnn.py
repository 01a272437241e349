# Positive control of the FAD study: logit KD (softmax KL at T=4 on
# head.fc_cls) from the PointNet++ SSG teacher into the 40x student on the
# synthetic ScanObjectNN (xyz only, 15 classes; the variant as in the
# student config, PB_T50_RS in projects/FAD/studies/). The study passes
# its teacher's checkpoint; run alone, train the teacher first:
#   python tools/train.py configs/pointnet2_cls/\
#       pointnet2-ssg_1xb16-cpu_synthetic-scanobjectnn.py \
#       --work-dir work_dirs/fad_teacher_scanobjectnn
_base_ = [
    '../../../configs/pointnet2_cls/'
    'pointnet2-ssg-40x_1xb16-cpu_synthetic-scanobjectnn.py',
    '../../../configs/_base_/distill/logit_kd_pointnet2_cls.py'
]
teacher_cfg = '{{fileDirname}}/../../../configs/pointnet2_cls/pointnet2-ssg_1xb16-cpu_synthetic-scanobjectnn.py'  # noqa: E501
teacher_ckpt = 'work_dirs/fad_teacher_scanobjectnn/epoch_30.pth'
