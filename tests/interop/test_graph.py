"""Stock TensorBoard's graph dashboard reads the engine's graph and profile, with both loaders."""
import os

import pytest
from google.protobuf import text_format
from tensorboard.compat.proto import config_pb2, graph_pb2

from tb_server import tensorboard

RUN = "graph_run"


def read_lines(path):
    with open(path) as f:
        return [line.split() for line in f if line.strip()]


@pytest.mark.parametrize("load_fast", ["false", "true"])
def test_graph_and_run_metadata(graph_logdir, load_fast, tmp_path):
    logdir, out = graph_logdir
    expected = {fields[0]: fields for fields in read_lines(os.path.join(out, "expected_graph.txt"))}
    executed = [fields[0] for fields in read_lines(os.path.join(out, "executed.txt"))]
    with tensorboard(logdir, load_fast, tmp_path) as tb:
        def info():
            run = tb.get_json("/data/plugin/graphs/info").get(RUN)
            return run if run and run.get("run_graph") and "step_1" in run.get("tags", {}) else None

        run_info = tb.wait_for(info, "the graph and its run metadata")
        assert run_info["tags"]["step_1"]["profile"] is True, run_info

        graph = graph_pb2.GraphDef()
        text_format.Parse(tb.get_bytes(f"/data/plugin/graphs/graph?run={RUN}").decode(), graph)
        nodes = {n.name: n for n in graph.node}
        assert set(nodes) == set(expected), set(nodes) ^ set(expected)
        for name, fields in expected.items():
            node = nodes[name]
            assert node.op == fields[1], (name, node.op, fields[1])
            controls = [i for i in node.input if i.startswith("^")]
            assert controls == fields[2:], (name, controls, fields[2:])
            for i in node.input:  # every edge points at a node of the graph
                assert i.lstrip("^").split(":")[0] in nodes, (name, i)
            assert node.device.endswith("device:CPU:0"), node.device
        mm = nodes["dense1/MatMul"]
        assert [i for i in mm.input] == ["input/x", "dense1/kernel"]
        assert [d.size for d in mm.attr["_output_shapes"].list.shape[0].dim] == [-1, 16]
        assert mm.attr["T"].type == 1
        assert nodes["dense1/kernel"].attr["shape"].shape.dim[1].size == 16
        assert any(n.startswith("gradients/") for n in nodes), "the gradient subgraph"
        assert nodes["Adam/update_kernel"].input[0] == "dense1/kernel", "the update's reference input"
        # type attributes named as TensorFlow's ops have them (DT_FLOAT 1, DT_INT32 3, DT_INT64 9, DT_BOOL 10)
        assert (nodes["metrics/ArgMax"].attr["T"].type, nodes["metrics/ArgMax"].attr["output_type"].type) == (1, 9)
        assert (nodes["metrics/Cast"].attr["SrcT"].type, nodes["metrics/Cast"].attr["DstT"].type) == (3, 9)
        assert nodes["metrics/Equal"].attr["T"].type == 9, "a comparison's T is its inputs' type"
        assert (nodes["metrics/Cast_1"].attr["SrcT"].type, nodes["metrics/Cast_1"].attr["DstT"].type) == (10, 1)
        assert "T" not in nodes["metrics/Cast_1"].attr

        rm = config_pb2.RunMetadata()
        text_format.Parse(tb.get_bytes(f"/data/plugin/graphs/run_metadata?run={RUN}&tag=step_1").decode(), rm)
        stats = {s.node_name: s for d in rm.step_stats.dev_stats for s in d.node_stats}
        assert set(stats) == set(executed), set(stats) ^ set(executed)
        for name in executed:
            s = stats[name]
            assert s.all_start_micros > 1.6e15 and s.all_end_rel_micros > 0, (name, s)
            assert name in nodes, f"profiled node {name} is not in the graph"
        assert stats["dense1/MatMul"].memory[0].total_bytes == 32 * 16 * 4
        assert [d.size for d in stats["dense1/MatMul"].output[0].tensor_description.shape.dim] == [32, 16]
