$(eval $(call program,testd,test-libexec,global util))
