// cpp_consumer LOGDIR: a C++ program using gradboard's C headers, which must give every
// declaration C linkage (their extern "C" blocks), or this fails to link. Minimises
// (x - 4)^2 from x = 0 and logs x; exits 0 when x ends near 4.
#include <gradboard/engine.h>
#include <gradboard/summary.h>

#include <cmath>
#include <cstdio>
#include <string>

namespace {

int fail(const std::string &what)
{
    std::fprintf(stderr, "cpp_consumer: %s: %s\n", what.c_str(), gb_errmsg());
    return 1;
}

}  // namespace

int main(int argc, char **argv)
{
    if (argc != 2) {
        std::fprintf(stderr, "usage: cpp_consumer LOGDIR\n");
        return 2;
    }
    if (std::string(gb_version()) != GB_VERSION_STRING)
        return fail("version mismatch");

    gb_graph *g = gb_graph_new();
    gb_node *x = gb_variable(g, "x", GB_F32, gb_dims(0), gb_init_zeros());
    gb_node *f = gb_square(g, gb_sub(g, x, gb_scalar(g, 4.0)));
    gb_node *step = gb_minimize(g, gb_gradient_descent(0.25), f, nullptr, 0);
    gb_node *init = gb_global_variables_initializer(g);
    if (gb_graph_status(g) != GB_OK) {
        std::fprintf(stderr, "cpp_consumer: %s\n", gb_graph_errmsg(g));
        return 1;
    }
    gb_session *s = gb_session_new(g, GB_CPU);
    if (!s || gb_session_run(s, nullptr, 0, &init, 1, nullptr) != GB_OK)
        return fail("init");

    gb_writer *w = nullptr;
    if (gb_writer_open(&w, argv[1], nullptr) != GB_OK)
        return fail("writer");
    double value = 0;
    for (int i = 0; i < 20; i++) {
        if (gb_session_run(s, nullptr, 0, &step, 1, nullptr) != GB_OK)
            return fail("step");
        value = gb_tensor_get(gb_session_variable(s, x), 0);
        if (gb_summary_scalar(w, "x", i, value) != GB_OK)
            return fail("log");
    }
    if (gb_writer_close(w) != GB_OK)
        return fail("close");
    gb_session_free(s);
    gb_graph_free(g);
    if (std::fabs(value - 4.0) > 1e-3) {
        std::fprintf(stderr, "cpp_consumer: x = %g, wanted 4\n", value);
        return 1;
    }
    std::printf("cpp_consumer: gradboard %s from C++, x = %.4f\n", gb_version(), value);
    return 0;
}
