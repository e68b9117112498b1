module github.com/dcbench/dcbench

go 1.26
